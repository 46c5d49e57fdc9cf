import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createFrame, stampFrame, type Frame } from '../canvas/frame.js';
import type { RenditionSpec } from '../stream/rendition.js';
import { encodeRelayMessage } from './frame-relay.js';
import { createRelay, type RelayBus } from './relay.js';

/** Redis as the relay sees it, in memory: every subscriber gets every publish, wants are a map. */
function fakeRedis() {
  const listeners: Array<(slug: string, message: Buffer) => void> = [];
  const wants = new Map<string, Map<string, string>>();
  let down = false;
  /** The live lease's epoch, as Redis's fenced publish checks it; undefined: not checked. */
  let fence: number | undefined;
  const lastSeq = new Map<string, number>();
  const bus = (): RelayBus => ({
    async publish(slug, message, epoch, seq) {
      if (down) throw new Error('Connection is closed.');
      if (fence !== undefined && epoch !== fence) return false;
      lastSeq.set(slug, Math.max(lastSeq.get(slug) ?? 0, seq));
      for (const l of listeners) l(slug, message);
      return true;
    },
    async lastSeq(slug) {
      return lastSeq.get(slug) ?? 0;
    },
    async keepSeq(slug, seq) {
      lastSeq.set(slug, Math.max(lastSeq.get(slug) ?? 0, seq));
    },
    subscribe(_slugs, onMessage) {
      listeners.push(onMessage);
    },
    follow() {},
    async writeWants(slug, node, value) {
      const hash = wants.get(slug) ?? new Map<string, string>();
      wants.set(slug, hash);
      if (value === undefined) hash.delete(node);
      else hash.set(node, value);
    },
    async readWants(slug) {
      return Object.fromEntries(wants.get(slug) ?? []);
    },
    async dropWants(slug, node) {
      wants.get(slug)?.delete(node);
    },
    async close() {},
  });
  return {
    bus,
    wants,
    inject: (slug: string, message: Buffer) => listeners.forEach((l) => l(slug, message)),
    set down(v: boolean) {
      down = v;
    },
    set fence(v: number | undefined) {
      fence = v;
    },
  };
}

const spec = (width: number): RenditionSpec => ({ format: 'webp', width, height: width, fit: 'inside' });

function frame(seq: number, imageId = `img-${seq}`): Frame {
  const f = createFrame(
    { id: imageId, data: Buffer.from('source'), source: 'folder', createdAt: 1_700_000_000_000 },
    new Map([['webp:32x32:inside', { data: Buffer.from([seq, 1, 2]), format: 'webp', mime: 'image/webp', width: 32, height: 32 }]]),
  );
  stampFrame(f, seq, 1_700_000_000_000 + seq * 250, 300);
  return f;
}

/** A node: its relay, the epochs it holds, the frames its canvas showed. */
function node(redis: ReturnType<typeof fakeRedis>, nodeId: string, clock: FakeClock) {
  const held = new Map<string, number>();
  const shown: Frame[] = [];
  /** What raiseSeq told the canvas: its next frame is numbered above this. */
  const raised: number[] = [];
  /** The seq the canvas shows when it is not relaying (an island's own frames). */
  const island = { seq: 0 };
  const wanted: RenditionSpec[] = [];
  const logs = captureLogs();
  const relay = createRelay({
    bus: redis.bus(),
    nodeId,
    slugs: ['wall'],
    clock,
    logger: logs.logger,
    epochOf: (slug) => held.get(slug),
    deliver: (_slug, f) => {
      if (f.seq <= (shown.at(-1)?.seq ?? 0)) return false;
      shown.push(f);
      return true;
    },
    wantedHere: () => wanted,
    raiseSeq: (_slug, seq) => raised.push(seq),
    shownSeq: () => Math.max(island.seq, shown.at(-1)?.seq ?? 0),
    intervalMs: 1000,
  });
  relay.start();
  return { relay, held, shown, wanted, logs, raised, island };
}

describe('frame relay', () => {
  it('carries the owner’s frames to the other nodes with seq, presentAt and the epoch, not back to itself', async () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const a = node(redis, 'a', clock);
    const b = node(redis, 'b', clock);
    const c = node(redis, 'c', clock);
    a.held.set('wall', 10);
    for (const seq of [1, 2, 3]) a.relay.publish('wall', frame(seq));
    for (const n of [b, c]) {
      expect(n.shown.map((f) => [f.seq, f.imageId, f.presentAt])).toEqual([1, 2, 3].map((s) => [s, `img-${s}`, frame(s).presentAt]));
      expect(n.shown[0]!.renditions.get('webp:32x32:inside')!.data).toEqual(Buffer.from([1, 1, 2]));
    }
    expect(a.shown).toEqual([]);
    await new Promise((r) => setImmediate(r));
    expect(a.relay.stats.published).toBe(3);
    expect(b.relay.stats).toMatchObject({ received: 3, shown: 3 });
  });

  it('refuses frames of an epoch below the highest seen, and frames a node holds the lease of itself', async () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const a = node(redis, 'a', clock);
    const b = node(redis, 'b', clock);
    const old = node(redis, 'old', clock);
    // A node that lost the lease (epoch 10) but still believes it holds it (frozen, say).
    old.held.set('wall', 10);
    a.held.set('wall', 20);
    a.relay.publish('wall', frame(5));
    // It publishes: nobody shows it.
    old.relay.publish('wall', frame(99, 'stale'));
    expect(b.shown.map((f) => f.imageId)).toEqual(['img-5']);
    expect(b.relay.stats.refused.stale).toBe(1);
    expect(b.logs.lines.some((l) => String(l.msg).includes('refused (stale)'))).toBe(true);
    // The nodes that produce the canvas (or think so) read nothing on its channel: their own echo, the other's frame.
    expect(a.relay.stats.refused).toMatchObject({ own: 2, stale: 0 });
    expect(old.relay.stats.refused).toMatchObject({ own: 2, stale: 0 });
    expect(old.shown).toEqual([]);
  });

  it('refuses a frame not newer than the one shown, so seq never goes back', () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const a = node(redis, 'a', clock);
    const b = node(redis, 'b', clock);
    a.held.set('wall', 10);
    a.relay.publish('wall', frame(7));
    a.relay.publish('wall', frame(6));
    expect(b.shown.map((f) => f.seq)).toEqual([7]);
    expect(b.relay.stats.refused.old).toBe(1);
  });

  it('counts and ignores malformed and unknown messages, and never throws', () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const b = node(redis, 'b', clock);
    redis.inject('wall', Buffer.from('garbage'));
    redis.inject('wall', Buffer.alloc(0));
    const elsewhere = encodeRelayMessage({
      node: 'x',
      slug: 'other',
      epoch: 1,
      seq: 1,
      slotTime: 0,
      presentAt: undefined,
      madeAt: 'now',
      imageId: 'i',
      source: 's',
      prompt: undefined,
      renditions: [{ key: 'k', encoded: { data: Buffer.from([1]), format: 'jpeg', mime: 'image/jpeg', width: 1, height: 1 } }],
    });
    redis.inject('wall', elsewhere);
    expect(b.relay.stats.refused).toMatchObject({ malformed: 2, unknown: 1 });
    expect(b.shown).toEqual([]);
  });

  it('takes the live lease epoch read from Redis as the floor, before the new owner’s first frame', async () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const logs = captureLogs();
    const shown: Frame[] = [];
    const relay = createRelay({
      bus: redis.bus(),
      nodeId: 'b',
      slugs: ['wall'],
      clock,
      logger: logs.logger,
      epochOf: () => undefined,
      currentEpoch: async () => 30,
      deliver: (_s, f) => shown.push(f) > 0,
      wantedHere: () => [],
      intervalMs: 1000,
    });
    await relay.tick();
    relay.receive(
      'wall',
      encodeRelayMessage({
        node: 'old',
        slug: 'wall',
        epoch: 29,
        seq: 50,
        slotTime: 0,
        presentAt: 300,
        madeAt: 'x',
        imageId: 'stale',
        source: 'folder',
        prompt: undefined,
        renditions: [{ key: 'k', encoded: { data: Buffer.from([1]), format: 'jpeg', mime: 'image/jpeg', width: 1, height: 1 } }],
      }),
    );
    expect(shown).toEqual([]);
    expect(relay.stats.refused.stale).toBe(1);
  });

  it('tells the owner the renditions other nodes’ displays want, and forgets a node that stops telling', async () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const a = node(redis, 'a', clock);
    const b = node(redis, 'b', clock);
    a.held.set('wall', 10);
    b.wanted.push(spec(640), spec(480));
    await b.relay.tick();
    await a.relay.tick();
    expect(
      a.relay
        .remoteSpecs('wall')
        .map((s) => s.width)
        .sort(),
    ).toEqual([480, 640]);
    // b's displays leave: its entry is removed.
    b.wanted.length = 0;
    await b.relay.tick();
    await a.relay.tick();
    expect(a.relay.remoteSpecs('wall')).toEqual([]);
    // b wants again, then dies (stops writing): after three intervals the owner drops it.
    b.wanted.push(spec(640));
    await b.relay.tick();
    await b.relay.close();
    redis.wants.get('wall')!.set('b', JSON.stringify({ at: clock.now(), specs: [spec(640)] }));
    clock.advance(3001);
    await a.relay.tick();
    expect(a.relay.remoteSpecs('wall')).toEqual([]);
    expect(redis.wants.get('wall')!.has('b')).toBe(false);
    await a.relay.close();
  });

  it('counts publishes Redis would not take, and keeps going', async () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const a = node(redis, 'a', clock);
    a.held.set('wall', 10);
    redis.down = true;
    a.relay.publish('wall', frame(1));
    a.relay.publish('wall', frame(2));
    await new Promise((r) => setImmediate(r));
    expect(a.relay.stats.publishFailed).toBe(2);
    expect(a.logs.lines.filter((l) => String(l.msg).includes('not relayed'))).toHaveLength(1);
    redis.down = false;
    a.relay.publish('wall', frame(3));
    await new Promise((r) => setImmediate(r));
    expect(a.relay.stats.published).toBe(1);
    expect(a.relay.stats.bytesPublished).toBeGreaterThan(3);
  });

  it('counts frames Redis refuses to send for a lease that is not the live one, and shows them nowhere', async () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const a = node(redis, 'a', clock);
    const b = node(redis, 'b', clock);
    a.held.set('wall', 10);
    redis.fence = 11;
    a.relay.publish('wall', frame(1));
    await new Promise((r) => setImmediate(r));
    expect(a.relay.stats).toMatchObject({ published: 0, publishFenced: 1 });
    expect(b.shown).toEqual([]);
  });

  it('numbers a canvas taken over on from the last seq any owner sent', async () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const a = node(redis, 'a', clock);
    a.held.set('wall', 10);
    a.relay.publish('wall', frame(77));
    const raised: Array<[string, number]> = [];
    const logs = captureLogs();
    const b = createRelay({
      bus: redis.bus(),
      nodeId: 'b',
      slugs: ['wall'],
      clock,
      logger: logs.logger,
      epochOf: () => undefined,
      deliver: () => true,
      raiseSeq: (slug, seq) => raised.push([slug, seq]),
      wantedHere: () => [],
      intervalMs: 1000,
    });
    b.producing('wall', true);
    await vi.waitFor(() => expect(raised).toEqual([['wall', 77]]));
  });

  it('has the owner number on above the seq an island showed alone while Redis was down', async () => {
    const redis = fakeRedis();
    const clock = new FakeClock();
    const owner = node(redis, 'owner', clock);
    const island = node(redis, 'island', clock);
    owner.held.set('wall', 30);
    owner.relay.producing('wall', true);
    owner.relay.publish('wall', frame(10));
    await new Promise((r) => setImmediate(r));
    // The island produced the canvas for its own displays up to seq 40, then lost the lease.
    island.relay.producing('wall', true);
    island.island.seq = 40;
    island.relay.producing('wall', false);
    await new Promise((r) => setImmediate(r));
    clock.advance(1000);
    await new Promise((r) => setImmediate(r));
    expect(owner.raised.at(-1)).toBe(40);
    // Numbered on from there, the owner's next frame reaches the island's displays.
    owner.relay.publish('wall', frame(41));
    expect(island.shown.map((f) => f.seq)).toEqual([10, 41]);
  });
});
