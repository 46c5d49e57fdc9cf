import { createDisplay, type Display, type DisplaySocket } from '../../server/canvas/channel.js';
import type { RenditionSpec } from '../../server/stream/rendition.js';

/** The uWS socket as a channel sees it: `buffered` > 0 models a display not reading. */
export class FakeSocket implements DisplaySocket {
  buffered = 0;
  sent: Array<Uint8Array | string> = [];
  ended: { code: number; reason: string } | undefined;
  closedHard = false;
  send(message: Uint8Array | string): number {
    this.sent.push(message);
    return this.buffered > 0 ? 0 : 1;
  }
  // Topics are the fan-out's business: the channel never calls these itself.
  subscribe() {
    return true;
  }
  unsubscribe() {
    return false;
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
