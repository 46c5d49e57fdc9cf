import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../../test/support/redis-clients.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { systemClock, type Clock } from '../stream/clock.js';
import type { NodeClock } from './clock-sync.js';
import { createNodeRegistry, type NodeActivity } from './nodes.js';

describe('node registry on a real redis-server', () => {
  const redisServer = useRedisServer();
  const connect = () => redisServer.connect();
  let run = 0;

  async function node(id: string, prefix: string, opts: { ttlMs?: number; clock?: Clock; activity?: NodeActivity; time?: NodeClock } = {}) {
    const logs = captureLogs();
    const registry = createNodeRegistry({
      redis: await connect(),
      nodeId: id,
      address: `10.0.0.${id.length}:8000`,
      ttlMs: opts.ttlMs ?? 5000,
      clock: opts.clock ?? systemClock,
      clockStatus: () => opts.time ?? { offsetMs: 0.4, errorMs: 0.2, correctionMs: 0.4, state: 'ok' },
      activity: () => opts.activity ?? { canvases: [], displays: 0 },
      prefix,
      logger: logs.logger,
    });
    return { registry, logs };
  }

  it('lists each live node with its address, canvases, displays, heartbeat and clock', async () => {
    const prefix = `n${++run}:`;
    const a = await node('node-a', prefix, { activity: { canvases: ['lobby'], displays: 12 } });
    const b = await node('node-b', prefix);
    const [ra] = await Promise.all([a.registry.beat(), b.registry.beat()]);
    const listed = await b.registry.list();
    expect(listed.map((n) => n.id)).toEqual(['node-a', 'node-b']);
    expect(listed[0]).toEqual(ra);
    expect(listed[0]).toMatchObject({
      address: '10.0.0.6:8000',
      canvases: ['lobby'],
      displays: 12,
      clockOffsetMs: 0.4,
      clockErrorMs: 0.2,
      clockCorrectionMs: 0.4,
      clock: 'ok',
    });
    const redisNow = Number((await (await connect()).time())[0]) * 1000;
    expect(Math.abs(listed[0]!.heartbeatAt - redisNow)).toBeLessThan(5000);

    await a.registry.close();
    expect((await b.registry.list()).map((n) => n.id)).toEqual(['node-b']);
  });

  it('forgets a node that stops heartbeating once its record expires', async () => {
    const prefix = `n${++run}:`;
    const gone = await node('node-gone', prefix, { ttlMs: 200 });
    const stays = await node('node-stays', prefix);
    await gone.registry.beat();
    await stays.registry.beat();
    expect((await stays.registry.list()).length).toBe(2);
    const end = Date.now() + 10_000;
    let ids: string[] = [];
    while (Date.now() < end) {
      ids = (await stays.registry.list()).map((n) => n.id);
      if (ids.length === 1) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    expect(ids).toEqual(['node-stays']);
  });

  it('tells its heartbeat and start on the cluster clock: its own clock plus the correction', async () => {
    const prefix = `n${++run}:`;
    const ahead: Clock = { ...systemClock, now: () => systemClock.now() + 5000 };
    const time: NodeClock = { offsetMs: -5000, errorMs: 0.5, correctionMs: -5000, state: 'far' };
    const skewed = await node('node-skewed', prefix, { clock: ahead, time });
    const info = await skewed.registry.beat();
    const redisNow = Number((await (await connect()).time())[0]) * 1000;
    expect(Math.abs(info.heartbeatAt - redisNow)).toBeLessThan(2000);
    expect(info).toMatchObject({ clockOffsetMs: -5000, clockCorrectionMs: -5000, clock: 'far' });
    expect(Math.abs(info.startedAt - redisNow)).toBeLessThan(2000);
  });
});
