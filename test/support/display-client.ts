import WebSocket from 'ws';
import { decodeFrameMessage, EASEL_SUBPROTOCOL, type FrameHeader } from '../../protocol/wire.js';

export interface ReceivedFrame {
  header: FrameHeader;
  image: Uint8Array;
  at: number;
}

/** A display as a test sees it: a real WebSocket client that records everything it receives. */
export class DisplayClient {
  readonly socket: WebSocket;
  readonly frames: ReceivedFrame[] = [];
  readonly texts: string[] = [];
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  openedAt = 0;

  /** `protocols`: Easel's binary v2 unless told otherwise; `[]` asks for nothing, as the seed's client does. */
  constructor(url: string, protocols: string[] = [EASEL_SUBPROTOCOL]) {
    this.socket = new WebSocket(url, protocols);
    this.opened = new Promise((resolve, reject) => {
      this.socket.once('open', () => {
        this.openedAt = performance.now();
        resolve();
      });
      this.socket.once('error', reject);
    });
    this.closed = new Promise((resolve) => this.socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
    this.socket.on('message', (data: Buffer, isBinary) => {
      if (isBinary) this.frames.push({ ...decodeFrameMessage(data), at: performance.now() });
      else this.texts.push(data.toString('utf8'));
    });
  }

  /** Frames received in the last `ms` milliseconds. */
  framesWithin(ms: number): ReceivedFrame[] {
    const since = performance.now() - ms;
    return this.frames.filter((f) => f.at >= since);
  }

  json(): Array<Record<string, unknown>> {
    return this.texts.map((t) => JSON.parse(t) as Record<string, unknown>);
  }

  close(): void {
    this.socket.close();
  }
}

/** Resolves with the HTTP status and body of a refused WebSocket upgrade. */
export function refusedUpgrade(url: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('open', () => reject(new Error(`Expected ${url} to be refused, but it opened`)));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    ws.on('error', () => undefined);
  });
}
