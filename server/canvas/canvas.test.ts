import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { fakeDisplay } from '../../test/support/fake-display.js';
import { solidPng } from '../../test/support/images.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createScriptedSource, imageOf } from '../../test/support/scripted-source.js';
import { quickRenderer } from '../../test/support/test-renderer.js';
import type { CanvasConfig } from '../config.js';
import { chooseRendition } from '../stream/rendition.js';
import { decodeFrameMessage } from '../../protocol/wire.js';
import { createCanvas, type Canvas, type CanvasOptions, type CanvasState } from './canvas.js';
import { createFrame, stampFrame, type Frame } from './frame.js';
import { TOO_SLOW_CODE } from './stuck-close.js';

/**
 * One canvas on a fake clock (10 fps: a slot every 100 ms) with a source the test answers by
 * hand. Renders are real (sharp), so the test waits for the state it expects after each image,
 * and moves the clock only once the frames it needs are queued.
 */
const config: CanvasConfig = {
  slug: 'wall',
  source: { type: 'folder', path: '/nowhere', order: 'name' },
  fps: 10,
  width: 32,
  height: 32,
  fit: 'inside',
  formats: ['jpeg', 'webp'],
  sync: true,
  leadMs: 300,
};
const SLOT = 100;
const settle = () => new Promise((resolve) => setImmediate(resolve));

const open: Canvas[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((c) => c.close()));
});

async function setUp(
  options: {
    renderAhead?: number;
    stallSlots?: number;
    start?: boolean;
    config?: Partial<CanvasConfig>;
    cluster?: Partial<CanvasOptions>;
  } = {},
) {
  const clock = new FakeClock();
  const logs = captureLogs();
  const scripted = createScriptedSource('folder');
  const counts: number[] = [];
  const canvas = createCanvas({
    config: { ...config, ...options.config },
    source: scripted.source,
    renderer: quickRenderer(),
    clock,
    logger: logs.logger,
    renderAhead: options.renderAhead ?? 3,
    stallTimeoutMs: 60_000,
    stallSlots: options.stallSlots ?? 5,
    onDisplayCount: (n) => counts.push(n),
    ...options.cluster,
  });
  open.push(canvas);
  const states: CanvasState[] = [];
  canvas.onEvent((e) => e.type === 'state' && states.push(e.state));
  if (options.start !== false) canvas.start();
  const png = await solidPng('#884422', 16, 16);
  /**
   * Gives the source `n` images and waits until the producer has queued them all: it asks for
   * the next one only then (so the queue needs room for one more than it holds after).
   */
  const feed = async (n: number, on = scripted) => {
    const images = [];
    for (let i = 0; i < n; i++) {
      await vi.waitFor(() => expect(on.asked).toBe(true));
      const image = imageOf(png, on.source.kind);
      on.give(image);
      images.push(image);
    }
    await vi.waitFor(() => expect(on.asked).toBe(true));
    return images;
  };
  const slots = (n: number) => clock.advance(n * SLOT);
  const spec = chooseRendition(config, { mode: 'binary', accept: [] });
  return { clock, logs, scripted, canvas, states, counts, feed, slots, spec };
}

describe('createCanvas', () => {
  it('close() resolves promptly while the producer backs off after a source error', async () => {
    const { clock, logs, scripted, canvas } = await setUp();
    await vi.waitFor(() => expect(scripted.asked).toBe(true));
    scripted.fail(new Error('disk gone'));
    await vi.waitFor(() => expect(logs.lines.some((l) => l.msg === 'Source failed; trying again')).toBe(true));
    // The fake clock never moves: a back-off that ignored the abort would never end.
    const closed = await Promise.race([
      canvas.close().then(() => 'closed'),
      new Promise((r) => setTimeout(() => r('still waiting'), 5000)),
    ]);
    expect(closed).toBe('closed');
    expect(clock.pendingTimers).toBe(0);
    expect(scripted.closed).toBe(1);
    expect(canvas.snapshot().state).toBe('closed');
  });

  it("stamps each frame with its slot's time plus the lead, even when the slot's timer fires late", async () => {
    const { canvas, feed, slots, spec, clock } = await setUp();
    const a = fakeDisplay(spec);
    canvas.attach(a.display);
    await feed(2);
    clock.lateMs = 37; // a busy event loop: every timer fires 37 ms after its time
    const origin = clock.now();
    slots(2);
    const headers = a.socket.sent.map((m) => decodeFrameMessage(m as Uint8Array).header);
    expect(headers.map((h) => h.presentAt! - origin)).toEqual([SLOT + 300, 2 * SLOT + 300]);
    for (const h of headers) expect(h.timestamp).toBe(new Date(h.presentAt!).toISOString());
  });

  it('sends no presentAt on a canvas that does not sync: its time is the slot it was published in', async () => {
    const { canvas, feed, slots, spec, clock } = await setUp({ config: { sync: false } });
    const a = fakeDisplay(spec);
    canvas.attach(a.display);
    await feed(1);
    const origin = clock.now();
    slots(1);
    const { header } = decodeFrameMessage(a.socket.sent[0] as Uint8Array);
    expect(header.presentAt).toBeUndefined();
    expect(header.timestamp).toBe(new Date(origin + SLOT).toISOString());
  });

  it('publishes one queued frame per slot, to every display, then holds and resends nothing', async () => {
    const { canvas, states, feed, slots, spec } = await setUp();
    const a = fakeDisplay(spec);
    canvas.attach(a.display);
    const images = await feed(2);
    slots(1);
    expect(canvas.snapshot().lastFrame).toMatchObject({ seq: 1, imageId: images[0]!.id });
    slots(1);
    expect(canvas.snapshot().lastFrame).toMatchObject({ seq: 2, imageId: images[1]!.id });
    const heldBefore = canvas.snapshot().counters.held;
    slots(3);
    expect(canvas.snapshot().counters).toMatchObject({ published: 2, held: heldBefore + 3 });
    expect(a.socket.sent).toHaveLength(2);
    expect(states).toEqual(['streaming', 'holding']);
  });

  it('shows a still at the next slot and holds it for its time from then, the queue waiting', async () => {
    const { canvas, feed, slots, clock } = await setUp();
    await feed(2);
    const still = imageOf(await solidPng('#ffffff', 16, 16), 'still');
    await canvas.showStill(still, 5 * SLOT);
    slots(1);
    expect(canvas.snapshot().lastFrame?.imageId).toBe(still.id);
    expect(canvas.snapshot().holding).toEqual({ until: new Date(clock.now() + 5 * SLOT).toISOString() });
    slots(4);
    expect(canvas.snapshot().lastFrame?.imageId).toBe(still.id);
    slots(1);
    expect(canvas.snapshot().lastFrame?.imageId).not.toBe(still.id);
    expect(canvas.snapshot().holding).toBeNull();
  });

  it('stays paused when stepped, and resumes to holding with its next frame at once', async () => {
    const { canvas, states, feed, slots } = await setUp();
    await feed(2);
    canvas.pause();
    slots(5);
    expect(canvas.snapshot().counters.published).toBe(0);
    expect(canvas.next()).toBe(true);
    expect(canvas.snapshot()).toMatchObject({ state: 'paused', counters: { published: 1 } });
    canvas.resume();
    expect(states).toEqual(['paused', 'holding', 'streaming']);
    expect(canvas.snapshot()).toMatchObject({ state: 'streaming', counters: { published: 2 } });
  });

  it('has no slots while resting and takes them up again on wake', async () => {
    const { canvas, slots } = await setUp();
    canvas.rest();
    const held = canvas.snapshot().counters.held;
    slots(10);
    expect(canvas.snapshot().counters.held).toBe(held);
    canvas.wake();
    slots(3);
    expect(canvas.snapshot().counters.held).toBeGreaterThanOrEqual(held + 3);
  });

  it('closes a display that took none of stallSlots frames in a row, and says how many watch', async () => {
    const { canvas, counts, feed, slots, spec, clock } = await setUp({ stallSlots: 3 });
    const slow = fakeDisplay(spec, clock.now());
    const fine = fakeDisplay(spec, clock.now());
    canvas.attach(slow.display);
    canvas.attach(fine.display);
    slow.socket.buffered = 1_000_000;
    for (let i = 0; i < 3; i++) {
      await feed(1);
      slots(1);
    }
    expect(canvas.snapshot()).toMatchObject({ displays: 1, counters: { published: 3, stalledClosed: 1 } });
    expect(counts).toEqual([1, 2, 1]);
    expect(fine.socket.sent).toHaveLength(3);
    slow.socket.buffered = 0;
    canvas.drained(slow.display);
    expect(slow.socket.ended?.code).toBe(TOO_SLOW_CODE);
  });

  it('gives a display whose screen changed the current frame again, in a rendition made for it', async () => {
    const { canvas, feed, slots, spec } = await setUp();
    const d = fakeDisplay(spec);
    canvas.attach(d.display);
    await feed(1);
    slots(1);
    expect(d.socket.sent).toHaveLength(1);
    canvas.updateDisplay(d.display, { mode: 'binary', accept: ['webp'] });
    canvas.updateDisplay(d.display, { mode: 'binary', accept: ['webp'] });
    expect(d.display.key).toBe('webp:32x32:inside');
    await vi.waitFor(() => expect(d.socket.sent).toHaveLength(2));
  });

  it('swaps the source: frames of the old one are dropped, the old one is closed, the screen keeps its frame', async () => {
    const { canvas, scripted, feed, slots } = await setUp();
    await feed(2);
    slots(1);
    const shown = canvas.snapshot().lastFrame;
    const next = createScriptedSource('inference');
    await canvas.setSource(next.source);
    expect(scripted.closed).toBe(1);
    slots(3);
    expect(canvas.snapshot().lastFrame).toEqual(shown);
    const [fresh] = await feed(1, next);
    slots(1);
    expect(canvas.snapshot().lastFrame?.imageId).toBe(fresh!.id);
    expect(canvas.snapshot().source.kind).toBe('inference');
  });

  it('asks a source swapped in before the start once at a time, not from two producers', async () => {
    const { canvas, scripted } = await setUp({ start: false });
    const next = createScriptedSource();
    await canvas.setSource(next.source);
    canvas.start();
    await vi.waitFor(() => expect(next.asked).toBe(true));
    await settle();
    expect(next.calls.filter((c) => !c.signal.aborted)).toHaveLength(1);
    expect(scripted.calls).toHaveLength(0);
  });

  describe('in a cluster', () => {
    /** A frame as the relay hands it over: made elsewhere, numbered and timed by its owner. */
    const relayed = async (seq: number, presentAt: number): Promise<Frame> => {
      const renderer = quickRenderer();
      const image = imageOf(await solidPng('#224488', 32, 32), 'folder');
      const spec = chooseRendition(config, { mode: 'binary', accept: [] });
      const frame = createFrame(image, await renderer.render(image, [spec]));
      stampFrame(frame, seq, presentAt - 300, 300);
      return frame;
    };

    it('shows frames another node produced with their seq and presentAt, never one not newer, and gives a joiner the latest', async () => {
      const { canvas, spec } = await setUp({ start: false });
      const a = fakeDisplay(spec);
      canvas.attach(a.display);
      const f10 = await relayed(10, 1_800_000_000_300);
      const f11 = await relayed(11, 1_800_000_000_550);
      expect(canvas.receive(f10)).toBe(true);
      expect(canvas.receive(f11)).toBe(true);
      expect(canvas.receive(f10)).toBe(false);
      expect(canvas.receive(await relayed(11, 1_800_000_000_550))).toBe(false);
      const headers = a.socket.sent.map((m) => decodeFrameMessage(m as Uint8Array).header);
      expect(headers.map((h) => [h.seq, h.presentAt])).toEqual([
        [10, 1_800_000_000_300],
        [11, 1_800_000_000_550],
      ]);
      const b = fakeDisplay(spec);
      canvas.attach(b.display);
      expect(decodeFrameMessage(b.socket.sent[0] as Uint8Array).header.seq).toBe(11);
      expect(canvas.snapshot()).toMatchObject({ lastFrame: { seq: 11 }, counters: { relayed: 2 } });
    });

    it('numbers its own frames on from the last relayed one when it takes the canvas over', async () => {
      const { canvas, feed, slots } = await setUp({ start: false });
      canvas.receive(await relayed(40, 1_800_000_000_300));
      canvas.start();
      await feed(1);
      slots(1);
      expect(canvas.snapshot().lastFrame?.seq).toBe(41);
      canvas.raiseSeq(90);
      canvas.raiseSeq(50); // never down
      await feed(1);
      slots(1);
      expect(canvas.snapshot().lastFrame?.seq).toBe(91);
    });

    it('never presents a frame before the last one any node showed, and stays paused when paused before it starts', async () => {
      const { canvas, feed, slots, clock } = await setUp({ start: false });
      const later = clock.now() + 60_000; // the last owner's clock ran a minute ahead
      canvas.raiseSeq(7, later);
      canvas.pause();
      canvas.start();
      await feed(1);
      slots(5);
      expect(canvas.snapshot()).toMatchObject({ state: 'paused', lastFrame: null });
      canvas.resume();
      slots(1);
      const first = canvas.snapshot().lastFrame!;
      expect(first.seq).toBe(8);
      expect(Date.parse(first.timestamp)).toBeGreaterThan(later);
    });

    it('makes a rendition a relayed frame lacks from its largest one, for a display on this node', async () => {
      const { canvas } = await setUp({ start: false });
      const small = fakeDisplay(chooseRendition(config, { mode: 'binary', accept: ['webp'], viewport: { w: 8, h: 8, dpr: 1 } }));
      canvas.attach(small.display);
      canvas.receive(await relayed(3, 1_800_000_000_300));
      await vi.waitFor(() => expect(small.socket.sent).toHaveLength(1));
      expect(decodeFrameMessage(small.socket.sent[0] as Uint8Array).header).toMatchObject({ seq: 3, mime: 'image/webp' });
    });

    it('hands each frame it publishes to the relay, and renders the renditions other nodes want', async () => {
      const published: Frame[] = [];
      const remote = { format: 'jpeg' as const, width: 16, height: 16, fit: 'inside' as const };
      const { feed, slots } = await setUp({ cluster: { onPublished: (f) => published.push(f), remoteSpecs: () => [remote] } });
      await feed(2);
      slots(2);
      expect(published.map((f) => f.seq)).toEqual([1, 2]);
      expect([...published[0]!.renditions.keys()]).toContain('jpeg:16x16:inside');
    });
  });
});
