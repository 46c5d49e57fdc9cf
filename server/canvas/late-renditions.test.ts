import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { fakeDisplay } from '../../test/support/fake-display.js';
import { solidPng } from '../../test/support/images.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { imageOf } from '../../test/support/scripted-source.js';
import { quickRenderer } from '../../test/support/test-renderer.js';
import { renditionKey, type RenditionSpec } from '../stream/rendition.js';
import { Channel } from './channel.js';
import { createFrame } from './frame.js';
import { createLateRenditions } from './late-renditions.js';

const made: RenditionSpec = { format: 'jpeg', width: 32, height: 32, fit: 'inside' };
const small: RenditionSpec = { format: 'jpeg', width: 16, height: 16, fit: 'inside' };

async function setUp() {
  const renderer = quickRenderer();
  const channel = new Channel();
  const logs = captureLogs();
  const late = createLateRenditions({ renderer, channel, clock: new FakeClock(), logger: logs.logger });
  const image = imageOf(await solidPng('#123456', 64, 64));
  const frameOf = async () => createFrame(image, await renderer.render(image, [made]));
  return { renderer, channel, late, frameOf, logs };
}

describe('createLateRenditions', () => {
  it('makes a rendition nobody wanted at render time once, and sends it to every display that wants it', async () => {
    const { channel, late, frameOf } = await setUp();
    const frame = await frameOf();
    const a = fakeDisplay(small);
    const b = fakeDisplay(small);
    channel.add(a.display);
    channel.add(b.display);
    const missing = channel.publish(Object.assign(frame, { seq: 1 }), 0);
    expect(missing).toHaveLength(2);
    for (const display of missing) late.request(frame, display);
    expect(late.inFlight).toBe(1);
    await late.settled();
    expect(frame.renditions.has(renditionKey(small))).toBe(true);
    expect([a.socket.sent.length, b.socket.sent.length]).toEqual([1, 1]);
  });

  it('keeps a rendition finished after a newer frame went out, but sends the old frame to nobody', async () => {
    const { channel, late, frameOf } = await setUp();
    const old = Object.assign(await frameOf(), { seq: 1 });
    const newer = Object.assign(await frameOf(), { seq: 2 });
    const d = fakeDisplay(small);
    channel.add(d.display);
    channel.publish(old, 0);
    late.request(old, d.display);
    channel.publish(newer, 0);
    await late.settled();
    expect(old.renditions.has(renditionKey(small))).toBe(true);
    expect(d.socket.sent).toHaveLength(0);
  });

  it('gives a display the latest frame at once when its rendition exists, or once it is made', async () => {
    const { channel, late, frameOf } = await setUp();
    channel.publish(Object.assign(await frameOf(), { seq: 1 }), 0);
    const ready = fakeDisplay(made);
    const other = fakeDisplay(small);
    channel.add(ready.display);
    channel.add(other.display);
    late.offerLatest(ready.display);
    late.offerLatest(other.display);
    expect(ready.socket.sent).toHaveLength(1);
    expect(other.socket.sent).toHaveLength(0);
    await vi.waitFor(() => expect(other.socket.sent).toHaveLength(1));
  });

  it('logs a rendition it could not make and lets it go', async () => {
    const { channel, late, logs } = await setUp();
    const broken = Object.assign(createFrame(imageOf(Buffer.from('not an image')), new Map()), { seq: 1 });
    const d = fakeDisplay(small);
    channel.add(d.display);
    channel.publish(broken, 0);
    late.request(broken, d.display);
    await late.settled();
    expect(late.inFlight).toBe(0);
    expect(logs.lines.some((l) => l.msg === 'Could not make a rendition for a display')).toBe(true);
  });
});
