import { createDisplay, type Display, type DisplaySocket } from '../../server/canvas/channel.js';
import type { RenditionSpec } from '../../server/stream/rendition.js';

/** The uWS socket as a channel sees it: `buffered` > 0 models a display not reading. */
export class FakeSocket implements DisplaySocket {
  buffered = 0;
  sent: Array<Uint8Array | string> = [];
  ended: { code: number; reason: string } | undefined;
  topics = new Set<string>();
  closedHard = false;
  send(message: Uint8Array | string): number {
    this.sent.push(message);
    return this.buffered > 0 ? 0 : 1;
  }
  subscribe(topic: string) {
    this.topics.add(topic);
    return true;
  }
  unsubscribe(topic: string) {
    return this.topics.delete(topic);
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  end(code: number, reason: string): void {
    this.ended = { code, reason };
  }
  close(): void {
    this.closedHard = true;
  }
}

export function fakeDisplay(spec: RenditionSpec, now = 0): { display: Display; socket: FakeSocket } {
  const socket = new FakeSocket();
  return { socket, display: createDisplay({ socket, mode: 'binary', spec, remoteAddress: '127.0.0.1', userAgent: 'test', now }) };
}
