import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../../test/support/redis-clients.js';
import { systemClock } from '../stream/clock.js';
import { createLeaseKeeper } from './lease-keeper.js';
import { createLeaseStore } from './lease.js';
import { createPlacement, plan, shareOf } from './placement.js';

describe('share and plan', () => {
  it('gives each node ceil(canvases / live nodes), counting a node that sees no one as alone', () => {
    expect(shareOf(5, 3)).toBe(2);
    expect(shareOf(6, 3)).toBe(2);
    expect(shareOf(2, 5)).toBe(1);
    expect(shareOf(3, 0)).toBe(3);
    expect(shareOf(0, 2)).toBe(0);
  });

  it('tries every free canvas below the share, in an order of its own, and hands back what is above it', () => {
    const declared = ['a', 'b', 'c', 'd'];
    const first = plan('node-1', declared, [], 2);
    expect([...first.tryAcquire].sort()).toEqual(declared);
    expect(first.release).toEqual([]);
    // Nodes order the free canvases differently, so they rarely race for the same lease first.
    const orders = new Set(['node-1', 'node-2', 'node-3', 'node-4'].map((id) => plan(id, declared, [], 2).tryAcquire.join()));
    expect(orders.size).toBeGreaterThan(1);
    expect(plan('node-1', declared, ['a', 'b'], 2)).toEqual({ tryAcquire: [], release: [] });
    // A second node joined: the one holding all four hands two back, the same two each time.
    const handBack = plan('node-1', declared, declared, 2);
    expect(handBack.release).toHaveLength(2);
    expect(plan('node-1', declared, [...declared].reverse(), 2).release.sort()).toEqual([...handBack.release].sort());
  });
});

describe('placement on a real redis-server', () => {
  const redisServer = useRedisServer();

  const declared = ['s1', 's2', 's3', 's4', 's5'];

  async function node(nodeId: string, live: { count: number }) {
    const redis = await redisServer.connect(1000);
    const producing = new Set<string>();
    const leases = createLeaseStore({ redis, nodeId, leaseMs: 1500, prefix: 'p:' });
    const keeper = createLeaseKeeper({ store: leases, clock: systemClock, onLost: (slug) => producing.delete(slug) });
    const placement = createPlacement({
      nodeId,
      declared,
      leases,
      keeper,
      liveNodes: async () => live.count,
      clock: systemClock,
      onChange: (slug, on) => (on ? producing.add(slug) : producing.delete(slug)),
    });
    return { nodeId, producing, keeper, placement };
  }

  it('spreads the canvases over the nodes, one producer each, and moves them when nodes come and go', async () => {
    const live = { count: 1 };
    const a = await node('node-a', live);
    await a.placement.step();
    expect([...a.producing].sort()).toEqual(declared);

    // Two more nodes join: node-a hands back down to its share, the others take theirs.
    live.count = 3;
    const b = await node('node-b', live);
    const c = await node('node-c', live);
    for (let round = 0; round < 3; round++) for (const n of [a, b, c]) await n.placement.step();
    const all = [a, b, c].flatMap((n) => [...n.producing]);
    expect(all.sort()).toEqual(declared);
    for (const n of [a, b, c]) expect(n.producing.size).toBeLessThanOrEqual(2);

    // node-b stops cleanly: its leases are released at once, and the two left take them.
    await b.placement.close();
    await b.keeper.close();
    live.count = 2;
    for (let round = 0; round < 2; round++) for (const n of [a, c]) await n.placement.step();
    expect([...a.producing, ...c.producing].sort()).toEqual(declared);
    expect(a.producing.size).toBeLessThanOrEqual(3);
    expect(c.producing.size).toBeLessThanOrEqual(3);
    await a.keeper.close();
    await c.keeper.close();
  });
});
