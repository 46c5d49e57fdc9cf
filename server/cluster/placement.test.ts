import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../../test/support/redis-clients.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { systemClock } from '../stream/clock.js';
import { createLeaseKeeper } from './lease-keeper.js';
import { createLeaseStore } from './lease.js';
import { chooseTargets, createPlacement, nextStepDelay, plan, shareOf, type PeerLoad } from './placement.js';

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

describe('when the next placement step runs', () => {
  it('runs at the next renewal interval, or the moment a lease that missed two renewals runs out', () => {
    expect(nextStepDelay(1000, [])).toBe(1000);
    // A live owner renews every interval, so its lease always has more than an interval left.
    expect(nextStepDelay(1000, [2400, 2999])).toBe(1000);
    expect(nextStepDelay(1000, [2400, 380])).toBe(385);
    expect(nextStepDelay(1000, [0])).toBe(5);
    // No expiry (-1) or no key (-2) is no reason to hurry.
    expect(nextStepDelay(1000, [-1, -2])).toBe(1000);
  });
});

describe('handover targets', () => {
  it('hands each canvas to the least loaded other node below its share, counting what it hands in the same step', () => {
    const peers = [
      { id: 'node-a', canvases: 4 },
      { id: 'node-c', canvases: 1 },
      { id: 'node-b', canvases: 0 },
      { id: 'node-d', canvases: 2 },
    ];
    // Share 2: node-b (0) first, then node-b and node-c tie at 1 (the smaller id), then node-c; node-d is full.
    expect(Object.fromEntries(chooseTargets('node-a', ['w', 'x', 'y'], peers, 2))).toEqual({ w: 'node-b', x: 'node-b', y: 'node-c' });
    // Never to itself, and none when every other node is at its share: that canvas is released.
    expect(chooseTargets('node-a', ['w'], [{ id: 'node-a', canvases: 0 }], 2).size).toBe(0);
    const full = chooseTargets('node-a', ['w', 'x'], [{ id: 'node-b', canvases: 1 }], 2);
    expect(Object.fromEntries(full)).toEqual({ w: 'node-b' });
  });
});

describe('placement with planned handovers on a real redis-server', () => {
  const redisServer = useRedisServer();
  const declared = ['s1', 's2', 's3', 's4'];

  async function node(nodeId: string, live: { count: number; peers: PeerLoad[] }, give?: (slug: string, to: string) => Promise<boolean>) {
    const redis = await redisServer.connect(1000);
    const clock = new FakeClock();
    const producing = new Set<string>();
    const leases = createLeaseStore({ redis, nodeId, leaseMs: 3000, prefix: 'h:' });
    const keeper = createLeaseKeeper({ store: leases, clock, onLost: (slug) => producing.delete(slug) });
    const gave: string[] = [];
    const placement = createPlacement({
      nodeId,
      declared,
      leases,
      keeper,
      liveNodes: async () => live.count,
      clock,
      onChange: (slug, on) => (on ? producing.add(slug) : producing.delete(slug)),
      handover: {
        peers: () => live.peers,
        give: async (slug, to) => {
          gave.push(`${slug}>${to}`);
          if (give) return give(slug, to);
          producing.delete(slug);
          return (await keeper.transfer(slug, to)) !== undefined;
        },
      },
    });
    return { nodeId, producing, keeper, leases, placement, gave };
  }

  it('hands what is beyond the share straight to the joining node, which finds the leases its own at its next step', async () => {
    const live = { count: 1, peers: [] as PeerLoad[] };
    const a = await node('node-a', live);
    await a.placement.step();
    expect(a.producing.size).toBe(4);
    const b = await node('node-b', live);
    live.count = 2;
    live.peers = [
      { id: 'node-a', canvases: 4 },
      { id: 'node-b', canvases: 0 },
    ];
    await a.placement.step();
    expect(a.gave).toHaveLength(2);
    expect(a.gave.every((g) => g.endsWith('>node-b'))).toBe(true);
    expect(a.producing.size).toBe(2);
    // Never heard of it (no notice in this test): its next placement step adopts both leases.
    const given = a.gave.map((g) => g.split('>')[0]!);
    for (const slug of given) expect((await a.leases.holder(slug))?.owner).toBe('node-b');
    await b.placement.step();
    expect([...b.producing].sort()).toEqual([...given].sort());
    for (const slug of given) expect(b.keeper.held().some((h) => h.slug === slug)).toBe(true);
    await a.keeper.close();
    await b.keeper.close();
  });

  it('releases a canvas it could not hand over, as before', async () => {
    const live = { count: 1, peers: [] as PeerLoad[] };
    const a = await node('node-a', live, async () => false);
    await a.placement.step();
    live.count = 2;
    live.peers = [{ id: 'node-b', canvases: 0 }];
    await a.placement.step();
    expect(a.gave).toHaveLength(2);
    expect(a.producing.size).toBe(2);
    const released = declared.filter((s) => !a.producing.has(s));
    for (const slug of released) expect(await a.leases.holder(slug)).toBeUndefined();
    await a.keeper.close();
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
