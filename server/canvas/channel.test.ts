import { describe, expect, it } from 'vitest';
import type { EncodedImage } from '../stream/renderer.js';
import { renditionKey, type RenditionSpec } from '../stream/rendition.js';
import { Channel, createDisplay, type DisplaySocket } from './channel.js';
import { createLocalFanOut, type FanOut } from './fan-out.js';
import { createFrame, type Frame } from './frame.js';

const spec: RenditionSpec = { format: 'webp', width: 100, height: 100, fit: 'inside' };

class FakeSocket implements DisplaySocket {
  buffered = 0;
  sent: Array<Uint8Array | string> = [];
  ended: { code: number; reason: string } | undefined;
  send(message: Uint8Array | string) {
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
  getBufferedAmount() {
    return this.buffered;
  }
  end(code: number, reason: string) {
    this.ended = { code, reason };
  }
  close() {
    this.ended = { code: 1006, reason: '' };
  }
}

let seq = 0;
const frame = (): Frame => {
  const encoded: EncodedImage = { data: Buffer.from([1, 2, 3]), format: 'webp', mime: 'image/webp', width: 100, height: 100 };
  const f = createFrame(
    { id: `img-${seq}`, data: Buffer.alloc(0), source: 'test', createdAt: 0 },
    new Map([[renditionKey(spec), encoded]]),
  );
  f.seq = ++seq;
  return f;
};

const display = (socket: DisplaySocket, mode: 'binary' | 'json' = 'binary', wanted: RenditionSpec = spec) =>
  createDisplay({ socket, mode, spec: wanted, remoteAddress: '127.0.0.1', userAgent: 'test', now: 0 });

/** The local fan-out, with each publish recorded. */
const countingFanOut = () => {
  const local = createLocalFanOut();
  const published: string[] = [];
  const fanOut: FanOut & { in: (socket: FakeSocket, topic: string) => boolean } = {
    in: (socket, topic) => local.subscribers(topic).has(socket),
    subscribe: local.subscribe,
    unsubscribe: local.unsubscribe,
    publish(topic, message, isBinary) {
      published.push(topic);
      local.publish(topic, message, isBinary);
    },
  };
  return { fanOut, published };
};

describe('Channel', () => {
  it('builds each message once and sends the same bytes to every display of a rendition', () => {
    const channel = new Channel();
    const sockets = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    for (const s of sockets) channel.add(display(s));
    channel.publish(frame(), 0);
    expect(sockets.every((s) => s.sent.length === 1)).toBe(true);
    expect(sockets[1]!.sent[0]).toBe(sockets[0]!.sent[0]);
  });

  it('skips a display whose previous frame is still buffered, and counts it', () => {
    const channel = new Channel();
    const slow = new FakeSocket();
    const fast = new FakeSocket();
    const slowDisplay = display(slow);
    channel.add(slowDisplay);
    channel.add(display(fast));
    slow.buffered = 50_000;
    channel.publish(frame(), 1000);
    channel.publish(frame(), 1250);
    expect(slow.sent).toHaveLength(0);
    expect(fast.sent).toHaveLength(2);
    expect(slowDisplay).toMatchObject({ skipped: 2, blockedSince: 1000 });
    expect(channel.skippedSends).toBe(2);
  });

  it('gives a display that drained the newest frame it missed, once', () => {
    const channel = new Channel();
    const socket = new FakeSocket();
    const d = display(socket);
    channel.add(d);
    socket.buffered = 1;
    channel.publish(frame(), 0);
    const newest = frame();
    channel.publish(newest, 250);
    socket.buffered = 0;
    expect(channel.drained(d, 300)).toBe('sent');
    expect(d.lastSeq).toBe(newest.seq);
    expect(d.blockedSince).toBeNull();
    expect(channel.drained(d, 310)).toBe('current');
    expect(socket.sent).toHaveLength(1);
  });

  it('reports displays blocked for longer than the stall timeout', () => {
    const channel = new Channel();
    const socket = new FakeSocket();
    const d = display(socket);
    channel.add(d);
    socket.buffered = 1;
    channel.publish(frame(), 1000);
    expect(channel.stalled(5000, 5000, 10)).toEqual([]);
    expect(channel.stalled(6001, 5000, 10)).toEqual([d]);
  });

  it('reports a display that skipped stallSlots frames in a row, however little time passed', () => {
    const channel = new Channel();
    const socket = new FakeSocket();
    const d = display(socket);
    channel.add(d);
    socket.buffered = 1;
    for (let i = 0; i < 3; i++) channel.publish(frame(), 1000 + i * 10);
    expect(channel.stalled(1030, 60_000, 4)).toEqual([]);
    channel.publish(frame(), 1040);
    expect(channel.stalled(1040, 60_000, 4)).toEqual([d]);
  });

  it('starts counting again once the display drains, so a slow display is not closed', () => {
    const channel = new Channel();
    const socket = new FakeSocket();
    const d = display(socket);
    channel.add(d);
    for (let round = 0; round < 5; round++) {
      socket.buffered = 1;
      for (let i = 0; i < 3; i++) channel.publish(frame(), round * 100 + i);
      socket.buffered = 0;
      expect(channel.drained(d, round * 100 + 50)).toBe('sent');
    }
    expect(d.skipped).toBe(15);
    expect(channel.stalled(1000, 60_000, 4)).toEqual([]);
  });

  it('reports displays whose rendition the frame does not have yet', () => {
    const channel = new Channel();
    const other = createDisplay({
      socket: new FakeSocket(),
      mode: 'binary',
      spec: { ...spec, format: 'avif' },
      remoteAddress: '',
      userAgent: '',
      now: 0,
    });
    channel.add(other);
    expect(channel.publish(frame(), 0)).toEqual([other]);
  });

  it('sends JSON-mode displays the seed text message and binary displays the framed bytes', () => {
    const channel = new Channel();
    const json = new FakeSocket();
    const binary = new FakeSocket();
    channel.add(display(json, 'json'));
    channel.add(display(binary));
    channel.publish(frame(), 0);
    expect(typeof json.sent[0]).toBe('string');
    expect(JSON.parse(json.sent[0] as string)).toMatchObject({ image: 'AQID' });
    expect(binary.sent[0]).toBeInstanceOf(Uint8Array);
  });

  it('hands a frame to each topic (mode and rendition) in one publish, not one send per display', () => {
    const { fanOut, published } = countingFanOut();
    const channel = new Channel(fanOut);
    const binary = [new FakeSocket(), new FakeSocket(), new FakeSocket()];
    const json = new FakeSocket();
    for (const s of binary) channel.add(display(s));
    channel.add(display(json, 'json'));
    channel.publish(frame(), 0);
    channel.publish(frame(), 250);
    expect(published).toHaveLength(4);
    expect(new Set(published).size).toBe(2);
    expect([...binary, json].map((s) => s.sent.length)).toEqual([2, 2, 2, 2]);
    expect(typeof json.sent[0]).toBe('string');
  });

  it('takes a display with a frame still queued out of its topic before the publish, and back in when it drains', () => {
    const { fanOut, published } = countingFanOut();
    const channel = new Channel(fanOut);
    const slow = new FakeSocket();
    const d = display(slow);
    channel.add(d);
    channel.add(display(new FakeSocket()));
    const topic = channel.topicOf(d);
    expect(fanOut.in(slow, topic)).toBe(true);

    slow.buffered = 40_000;
    channel.publish(frame(), 1000);
    channel.publish(frame(), 1250);
    expect(fanOut.in(slow, topic)).toBe(false);
    expect(slow.sent).toHaveLength(0);
    expect(d).toMatchObject({ inTopic: false, skipped: 2, skippedInARow: 2, blockedSince: 1000, sent: 0 });
    expect(published).toHaveLength(2); // the other display still got both

    slow.buffered = 0;
    expect(channel.drained(d, 1300)).toBe('sent');
    expect(fanOut.in(slow, topic)).toBe(true);
    expect(slow.sent).toHaveLength(1);
    channel.publish(frame(), 1500);
    expect(slow.sent).toHaveLength(2);
    expect(d).toMatchObject({ inTopic: true, sent: 2, skipped: 2, skippedInARow: 0, blockedSince: null });
  });

  it('never lets a publish queue a second frame behind one a display has not taken', () => {
    const channel = new Channel();
    const socket = new FakeSocket();
    const d = display(socket);
    channel.add(d);
    // A display joined and took a frame directly, which is still queued when the next slot comes.
    socket.buffered = 0;
    channel.deliver(d, frame(), 0);
    socket.buffered = 30_000;
    for (let i = 1; i <= 5; i++) channel.publish(frame(), i * 250);
    expect(socket.sent).toHaveLength(1);
    expect(d.skipped).toBe(5);
  });

  it('moves a display to the topic of its new rendition', () => {
    const { fanOut } = countingFanOut();
    const channel = new Channel(fanOut);
    const socket = new FakeSocket();
    const d = display(socket);
    channel.add(d);
    const before = channel.topicOf(d);
    const small = { ...spec, width: 50, height: 50 };
    channel.changeRendition(d, small, renditionKey(small));
    expect(channel.topicOf(d)).not.toBe(before);
    expect(fanOut.in(socket, before)).toBe(false);
    expect(fanOut.in(socket, channel.topicOf(d))).toBe(true);
    expect(d.lastSeq).toBe(0);
    expect(channel.wantedSpecs()).toEqual([small]);
  });

  it('takes a removed display out of its topic, and keeps channels apart', () => {
    const { fanOut, published } = countingFanOut();
    const first = new Channel(fanOut);
    const second = new Channel(fanOut);
    const a = new FakeSocket();
    const b = new FakeSocket();
    const da = display(a);
    first.add(da);
    second.add(display(b));
    expect(first.topicOf(da)).not.toBe(second.topicOf(display(b)));
    second.publish(frame(), 0);
    expect(a.sent).toHaveLength(0);
    expect(b.sent).toHaveLength(1);
    first.remove(da);
    expect(fanOut.in(a, first.topicOf(da))).toBe(false);
    first.publish(frame(), 250);
    expect(a.sent).toHaveLength(0);
    expect(published).toHaveLength(1); // nobody left in the first channel: no publish at all
  });

  it('leaves displays that lack their rendition in their topic and publishes nothing to it', () => {
    const { fanOut, published } = countingFanOut();
    const channel = new Channel(fanOut);
    const socket = new FakeSocket();
    const other = display(socket, 'binary', { ...spec, format: 'avif' });
    channel.add(other);
    expect(channel.publish(frame(), 0)).toEqual([other]);
    expect(published).toEqual([]);
    expect(other).toMatchObject({ inTopic: true, skipped: 0, blockedSince: null });
  });
});
