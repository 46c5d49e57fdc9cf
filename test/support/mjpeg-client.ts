import http from 'node:http';

export interface MjpegPart {
  headers: Record<string, string>;
  jpeg: Buffer;
  at: number;
}

/**
 * A reader of `/c/<slug>.mjpeg` as a test sees it: a plain node HTTP client that splits the
 * multipart body into its parts by their Content-Length, as ffmpeg's mpjpeg demuxer does.
 */
export class MjpegClient {
  readonly parts: MjpegPart[] = [];
  readonly response: Promise<http.IncomingMessage>;
  /** Resolves when the stream ends from either side. */
  readonly ended: Promise<void>;
  private readonly request: http.ClientRequest;
  private buffer = Buffer.alloc(0);
  private boundary = '';

  constructor(url: string) {
    let settle!: () => void;
    this.ended = new Promise((resolve) => {
      settle = resolve;
    });
    this.request = http.get(url);
    this.request.on('error', () => settle());
    this.response = new Promise((resolve, reject) => {
      this.request.once('error', reject);
      this.request.once('response', (res) => {
        this.boundary = /boundary=([^;]+)/.exec(res.headers['content-type'] ?? '')?.[1] ?? '';
        res.on('data', (chunk: Buffer) => this.take(chunk));
        res.on('end', settle);
        res.on('close', settle);
        resolve(res);
      });
    });
  }

  close(): void {
    this.request.destroy();
  }

  private take(chunk: Buffer): void {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const start = this.buffer.indexOf(`--${this.boundary}\r\n`);
      if (start < 0) return;
      const headEnd = this.buffer.indexOf('\r\n\r\n', start);
      if (headEnd < 0) return;
      const headers: Record<string, string> = {};
      for (const line of this.buffer.subarray(start, headEnd).toString('latin1').split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length']);
      const bodyStart = headEnd + 4;
      if (this.buffer.length < bodyStart + length) return;
      this.parts.push({ headers, jpeg: Buffer.from(this.buffer.subarray(bodyStart, bodyStart + length)), at: performance.now() });
      this.buffer = this.buffer.subarray(bodyStart + length);
    }
  }
}
