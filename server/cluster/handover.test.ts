import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { useRedisServer } from '../../test/support/redis-clients.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createHandover, createRedisHandoverBus, decodeNotice, encodeNotice, HandoverNoticeError, MAX_NOTICE_BYTES } from './handover.js';
import { createLeaseKeeper } from './lease-keeper.js';
import { createLeaseStore } from './lease.js';

const declared = new Set(['wall', 'lobby']);

describe('handover notices', () => {
  it('reads a notice it wrote', () => {
    const notice = { slug: 'wall', epoch: 42, from: 'node-a', nextSlotAt: 1_700_000_000_250 };
    expect(decodeNotice(Buffer.from(encodeNotice(notice)), declared)).toEqual(notice);
    expect(decodeNotice(Buffer.from(encodeNotice({ ...notice, nextSlotAt: null })), declared).nextSlotAt).toBeNull();
  });

  it('refuses anything that is not a whole notice about a declared canvas, and anything oversized', () => {
    const good = { kind: 'handover', slug: 'wall', epoch: 42, from: 'node-a', nextSlotAt: null };
    const bad: unknown[] = [
      'not json',
      '[1,2]',
      'null',
      { ...good, kind: 'request' },
      { ...good, slug: 'elsewhere' },
      { ...good, slug: 7 },
      { ...good, epoch: 0 },
      { ...good, epoch: 1.5 },
      { ...good, epoch: '42' },
      { ...good, from: '' },
      { ...good, from: 'x'.repeat(201) },
      { ...good, nextSlotAt: 'soon' },
      { ...good, nextSlotAt: undefined },
    ];
    for (const b of bad) {
      const raw = Buffer.from(typeof b === 'string' ? b : JSON.stringify(b));
      expect(() => decodeNotice(raw, declared), raw.toString()).toThrow(HandoverNoticeError);
    }
    const oversized = Buffer.from(JSON.stringify({ ...good, pad: 'x'.repeat(MAX_NOTICE_BYTES) }));
    expect(() => decodeNotice(oversized, declared)).toThrow(/over the limit/);
  });
});

describe('handover on a real redis-server', () => {
  const redisServer = useRedisServer();

  async function node(nodeId: string, nextSlotAt: number | undefined) {
    const redis = await redisServer.connect(1000);
    const clock = new FakeClock();
    const { logger, lines } = captureLogs('debug');
    const store = createLeaseStore({ redis, nodeId, leaseMs: 3000 });
    const keeper = createLeaseKeeper({ store, clock, onLost: () => undefined });
    const changes: Array<[string, boolean, number | undefined]> = [];
    const prepared: string[] = [];
    const handover = createHandover({
      bus: createRedisHandoverBus(redis, nodeId),
      keeper,
      nodeId,
      declared: [...declared],
      clock,
      logger,
      prepare: async (slug) => {
        prepared.push(slug);
        return nextSlotAt;
      },
      onChange: (slug, producing, startAt) => changes.push([slug, producing, startAt]),
    });
    return { store, keeper, handover, changes, prepared, lines, close: () => handover.close() };
  }

  const until = async <T>(check: () => T | undefined | Promise<T | undefined>): Promise<T> => {
    const end = Date.now() + 10_000;
    for (;;) {
      const got = await check();
      if (got !== undefined) return got;
      if (Date.now() > end) throw new Error('state not reached');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('gives a canvas straight to the taker, which adopts the lease and starts at the giver’s next slot', async () => {
    const a = await node('node-a', 1_700_000_000_250);
    const b = await node('node-b', undefined);
    b.handover.listen();
    const got = await a.store.acquire('wall');
    if (!got.ok) throw new Error('expected the lease');
    a.keeper.hold('wall', got.epoch, 0);
    // Wait until node-b's channel is subscribed: a notice sent before is not heard.
    const publisher = await redisServer.connect();
    await until(async () => ((await publisher.pubsub('NUMSUB', 'easel:handover:node-b'))[1] === 1 ? true : undefined));
    // Not before node-b's heartbeat is in the registry: nothing is given to a node that is gone.
    expect(await a.handover.give('wall', 'node-b')).toBe(false);
    expect(a.keeper.held().map((h) => h.slug)).toEqual(['wall']);
    await publisher.set('easel:node:node-b', '{}', 'PX', 3000);

    expect(await a.handover.give('wall', 'node-b')).toBe(true);
    expect(a.prepared).toEqual(['wall']);
    expect(a.changes).toEqual([['wall', false, undefined]]);
    expect(a.keeper.held()).toEqual([]);
    await until(() => (b.changes.length > 0 ? true : undefined));
    expect(b.changes).toEqual([['wall', true, 1_700_000_000_250]]);
    const epoch = b.keeper.held().find((h) => h.slug === 'wall')!.epoch;
    expect(epoch).toBeGreaterThan(got.epoch);
    expect(b.keeper.isHeld('wall', epoch)).toBe(true);
    expect(await a.store.renew('wall', got.epoch)).toBe(false);
    expect(a.handover.stats).toMatchObject({ given: 1, unheard: 0 });
    expect(b.handover.stats).toMatchObject({ adopted: 1 });

    // A notice replayed, forged or unreadable changes nothing and ends nothing.
    await publisher.publish('easel:handover:node-b', encodeNotice({ slug: 'wall', epoch, from: 'node-a', nextSlotAt: null }));
    await publisher.publish('easel:handover:node-b', encodeNotice({ slug: 'lobby', epoch: 5, from: 'intruder', nextSlotAt: null }));
    await publisher.publish('easel:handover:node-b', 'x'.repeat(MAX_NOTICE_BYTES + 1));
    await publisher.publish('easel:handover:node-b', '{"kind":"handover"');
    await until(() => (b.handover.stats.ignored.malformed === 2 && b.handover.stats.ignored.stale === 1 ? true : undefined));
    expect(b.changes).toHaveLength(1);
    expect(b.keeper.held().map((h) => h.slug)).toEqual(['wall']);
    expect(b.lines.filter((l) => l.msg === 'Handover notice ignored: unreadable')).toHaveLength(1);
    a.close();
    b.close();
    await b.keeper.close();
  });

  it('counts a notice nobody heard; the lease is the taker’s in Redis all the same', async () => {
    const a = await node('node-a', undefined);
    const got = await a.store.acquire('lobby');
    if (!got.ok) throw new Error('expected the lease');
    a.keeper.hold('lobby', got.epoch, 0);
    await (await redisServer.connect()).set('easel:node:node-c', '{}', 'PX', 3000);
    expect(await a.handover.give('lobby', 'node-c')).toBe(true);
    expect(a.handover.stats).toMatchObject({ given: 1, unheard: 1 });
    expect(await a.store.holder('lobby')).toMatchObject({ owner: 'node-c' });
    expect(a.lines.find((l) => String(l.msg).includes('which did not hear it yet'))).toMatchObject({ slug: 'lobby', to: 'node-c' });
    // A canvas it does not hold is not given (nothing asked of Redis).
    expect(await a.handover.give('wall', 'node-c')).toBe(false);
    a.close();
  });
});
