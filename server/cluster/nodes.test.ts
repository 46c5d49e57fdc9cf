import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../../test/support/redis-clients.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { systemClock, type Clock } from '../stream/clock.js';
import { bestSample, clockSample, createNodeRegistry, type NodeActivity } from './nodes.js';

describe('clock offset to Redis', () => {
  it('takes the middle of the round trip, NTP style, and keeps the shortest round trip', () => {
    expect(clockSample(1000, 6010, 1020)).toEqual({ offsetMs: 5000, rttMs: 20 });
    expect(clockSample(1000, 990, 1000)).toEqual({ offsetMs: -10, rttMs: 0 });
    expect(bestSample([clockSample(0, 100, 40), clockSample(0, 52, 4), clockSample(0, 90, 30)])).toEqual({ offsetMs: 50, rttMs: 4 });
    expect(bestSample([])).toBeUndefined();
  });
});

describe('node registry on a real redis-server', () => {
  const redisServer = useRedisServer();
  const connect = () => redisServer.connect();
  let run = 0;

  async function node(id: string, prefix: string, opts: { ttlMs?: number; clock?: Clock; activity?: NodeActivity } = {}) {
    const logs = captureLogs();
    const registry = createNodeRegistry({
      redis: await connect(),
      nodeId: id,
      address: `10.0.0.${id.length}:8000`,
      ttlMs: opts.ttlMs ?? 5000,
      clock: opts.clock ?? systemClock,
      activity: () => opts.activity ?? { canvases: [], displays: 0 },
      prefix,
      logger: logs.logger,
    });
    return { registry, logs };
  }

  it('lists each live node with its address, canvases, displays, heartbeat and clock offset', async () => {
    const prefix = `n${++run}:`;
    const a = await node('node-a', prefix, { activity: { canvases: ['lobby'], displays: 12 } });
    const b = await node('node-b', prefix);
    const [ra] = await Promise.all([a.registry.beat(), b.registry.beat()]);
    const listed = await b.registry.list();
    expect(listed.map((n) => n.id)).toEqual(['node-a', 'node-b']);
    expect(listed[0]).toEqual(ra);
    expect(listed[0]).toMatchObject({ address: '10.0.0.6:8000', canvases: ['lobby'], displays: 12 });
    // Same machine as Redis: the offset is within the measurement's own error, plus a little.
    expect(Math.abs(listed[0]!.clockOffsetMs)).toBeLessThanOrEqual(listed[0]!.clockErrorMs + 5);
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

  it('measures a clock that is off, and says so once in plain words', async () => {
    const prefix = `n${++run}:`;
    const ahead: Clock = { ...systemClock, now: () => systemClock.now() + 5000 };
    const skewed = await node('node-skewed', prefix, { clock: ahead });
    const info = await skewed.registry.beat();
    await skewed.registry.beat();
    expect(info.clockOffsetMs).toBeLessThan(-4900);
    expect(info.clockOffsetMs).toBeGreaterThan(-5100);
    expect(skewed.registry.clockOffset?.offsetMs).toBeLessThan(-4900);
    const warnings = skewed.logs.lines.filter((l) => String(l.msg).includes('ms off Redis'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/NTP/);
  });
});
