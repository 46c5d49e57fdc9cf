import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { useRedisServer } from '../../test/support/redis-clients.js';
import { createLeaseStore } from './lease.js';
import { parseSharedCanvasState } from './shared-canvas-state.js';
import { createSharedStateStore } from './shared-state-store.js';
import { createStateKeeper, type Collected } from './state-keeper.js';

const redisServer = useRedisServer();
let run = 0;

/** Real time, briefly: the write a timer started is a real Redis round trip. */
async function settled(check: () => boolean | Promise<boolean>, withinMs = 5000): Promise<void> {
  const end = Date.now() + withinMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('state not reached');
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function setup() {
  const prefix = `k${++run}:`;
  const redis = await redisServer.connect();
  const store = createSharedStateStore(redis, prefix);
  const lease = await createLeaseStore({ redis, nodeId: 'node-a', leaseMs: 60_000, prefix }).acquire('wall');
  if (!lease.ok) throw new Error('expected the lease');
  const clock = new FakeClock();
  const { logger, lines } = captureLogs();
  let epoch: number | undefined = lease.epoch;
  let collected: Collected = { state: { canvas: { paused: true }, seq: 1, presentAt: null }, view: { slug: 'wall', state: 'paused' } };
  const keeper = createStateKeeper({
    store,
    nodeId: 'node-a',
    clock,
    logger,
    epochOf: () => epoch,
    held: () => (epoch === undefined ? [] : ['wall']),
    collect: () => collected,
  });
  const written = async () => {
    const read = await store.readState('wall', 65_536);
    return read.found ? parseSharedCanvasState(read.value, 'wall') : undefined;
  };
  return {
    redis,
    store,
    keeper,
    clock,
    lines,
    written,
    epoch: lease.epoch,
    setEpoch: (e: number | undefined) => (epoch = e),
    collect: (c: Collected) => (collected = c),
  };
}

describe('state keeper (owner side) on a real redis-server', () => {
  it('writes a burst of changes once, changeDelayMs after the first', async () => {
    const t = await setup();
    t.keeper.changed('wall');
    t.clock.advance(50);
    t.keeper.changed();
    t.keeper.changed('wall');
    expect(t.keeper.stats.written).toBe(0);
    t.clock.advance(50);
    await settled(() => t.keeper.stats.written === 1);
    expect(await t.written()).toMatchObject({ node: 'node-a', epoch: t.epoch, canvas: { paused: true }, seq: 1 });
    expect(JSON.parse((await t.redis.get(`k${run}:view:wall`))!)).toMatchObject({ slug: 'wall', producedBy: 'node-a' });
    t.clock.advance(5000);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.keeper.stats.written).toBe(1);
  });

  it('writes at most once a frame interval while frames flow, with the last seq and presentAt', async () => {
    const t = await setup();
    for (let i = 1; i <= 8; i++) {
      t.collect({ state: { canvas: {}, seq: i, presentAt: 1000 + i }, view: { slug: 'wall', state: 'streaming' } });
      t.keeper.frame('wall');
      t.clock.advance(250);
      if (i % 4 === 0) await settled(() => t.keeper.stats.written === i / 4);
    }
    expect(t.keeper.stats.written).toBe(2);
    expect(await t.written()).toMatchObject({ seq: 8, presentAt: 1008 });
  });

  it('writes nothing for a canvas this node does not hold, and is refused by Redis once its epoch is stale', async () => {
    const t = await setup();
    t.setEpoch(undefined);
    t.keeper.changed('wall');
    t.keeper.frame('wall');
    t.clock.advance(2000);
    await new Promise((r) => setTimeout(r, 50));
    expect(t.keeper.stats).toEqual({ written: 0, fenced: 0, failed: 0 });
    t.setEpoch(t.epoch - 1);
    t.keeper.changed('wall');
    t.clock.advance(100);
    await settled(() => t.keeper.stats.fenced === 1);
    expect(await t.written()).toBeUndefined();
  });

  it('writes a still’s bytes once per owner, before the state that holds it', async () => {
    const t = await setup();
    const data = Buffer.from('png bytes');
    t.collect({
      state: { canvas: { hold: { imageId: 'u-1', file: 'wall-u-1', until: null } }, seq: 3, presentAt: null },
      view: { slug: 'wall', state: 'holding' },
      still: { imageId: 'u-1', data },
    });
    await t.keeper.flush('wall');
    await t.redis.hset(`k${run}:still:wall`, 'data', 'changed behind its back');
    await t.keeper.flush('wall');
    expect(t.keeper.stats.written).toBe(2);
    // Written once: the second write found the same still under the same epoch.
    expect((await t.redis.hget(`k${run}:still:wall`, 'data'))!.toString()).toBe('changed behind its back');
  });

  it('counts a write Redis does not take, says so once, and writes again after the next change', async () => {
    const t = await setup();
    t.redis.disconnect();
    t.keeper.changed('wall');
    t.clock.advance(100);
    await settled(() => t.keeper.stats.failed === 1);
    t.keeper.changed('wall');
    t.clock.advance(1000);
    await settled(() => t.keeper.stats.failed >= 2);
    expect(t.lines.filter((l) => String(l.msg).startsWith('Canvas state not kept in Redis'))).toHaveLength(1);
    t.keeper.close();
    expect(t.clock.pendingTimers).toBe(0);
  });
});
