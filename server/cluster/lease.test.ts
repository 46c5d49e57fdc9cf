import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../../test/support/redis-clients.js';
import { createLeaseStore, type LeaseStore } from './lease.js';

const redisServer = useRedisServer();
let run = 0;

/** A node: its own connection and id, sharing a key prefix with the other nodes of the same test. */
async function node(nodeId: string, leaseMs: number, prefix: string): Promise<LeaseStore> {
  return createLeaseStore({ redis: await redisServer.connect(), nodeId, leaseMs, prefix });
}

const fresh = () => `t${++run}:`;

/** Polls (real time: Redis expires the keys) until `take` succeeds; a state reached, not a duration. */
async function until<T>(take: () => Promise<T | undefined>, withinMs = 10_000): Promise<T> {
  const end = Date.now() + withinMs;
  for (;;) {
    const got = await take();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error('state not reached');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('lease store on a real redis-server', () => {
  it('lets only one of two contenders win, the other learning who holds it', async () => {
    const prefix = fresh();
    const a = await node('node-a', 5000, prefix);
    const b = await node('node-b', 5000, prefix);
    const results = await Promise.all([a.acquire('lobby'), b.acquire('lobby')]);
    const winners = results.filter((r) => r.ok);
    expect(winners).toHaveLength(1);
    const loser = results.find((r) => !r.ok);
    expect(loser).toMatchObject({ ok: false, owner: results[0]!.ok ? 'node-a' : 'node-b', epoch: winners[0]!.epoch });
    expect(loser!.ok === false && loser!.remainingMs).toBeGreaterThan(0);
    // The winner cannot acquire it again either: one acquisition, one epoch.
    const again = await (results[0]!.ok ? a : b).acquire('lobby');
    expect(again.ok).toBe(false);
  });

  it('races many contenders for many canvases: exactly one owner each', async () => {
    const prefix = fresh();
    const nodes = await Promise.all(['a', 'b', 'c', 'd'].map((id) => node(id, 5000, prefix)));
    const slugs = ['s1', 's2', 's3', 's4', 's5', 's6'];
    const results = await Promise.all(slugs.flatMap((slug) => nodes.map(async (n, i) => ({ slug, i, r: await n.acquire(slug) }))));
    for (const slug of slugs) expect(results.filter((x) => x.slug === slug && x.r.ok)).toHaveLength(1);
  });

  it('hands out a larger epoch at every new acquisition, whoever takes it', async () => {
    const prefix = fresh();
    const a = await node('node-a', 5000, prefix);
    const b = await node('node-b', 5000, prefix);
    const epochs: number[] = [];
    for (const n of [a, b, a, a, b]) {
      const got = await n.acquire('lobby');
      if (!got.ok) throw new Error('expected the lease to be free');
      epochs.push(got.epoch);
      expect(await n.isCurrent('lobby', got.epoch)).toBe(true);
      expect(await n.release('lobby', got.epoch)).toBe(true);
      expect(await n.isCurrent('lobby', got.epoch)).toBe(false);
    }
    for (let i = 1; i < epochs.length; i++) expect(epochs[i]).toBeGreaterThan(epochs[i - 1]!);
  });

  it('renews only its own lease with its own epoch, and refuses a stale owner', async () => {
    const prefix = fresh();
    const a = await node('node-a', 5000, prefix);
    const b = await node('node-b', 5000, prefix);
    const first = await a.acquire('lobby');
    if (!first.ok) throw new Error('expected the lease');
    expect(await a.renew('lobby', first.epoch)).toBe(true);
    expect(await b.renew('lobby', first.epoch)).toBe(false);
    expect(await b.release('lobby', first.epoch)).toBe(false);
    expect(await a.renew('lobby', first.epoch + 1)).toBe(false);
    expect((await a.holder('lobby'))?.owner).toBe('node-a');

    // a gives it up; b takes it: a's old epoch can neither renew nor release b's lease.
    expect(await a.release('lobby', first.epoch)).toBe(true);
    const second = await b.acquire('lobby');
    if (!second.ok) throw new Error('expected the lease');
    expect(await a.renew('lobby', first.epoch)).toBe(false);
    expect(await a.release('lobby', first.epoch)).toBe(false);
    expect(await a.isCurrent('lobby', first.epoch)).toBe(false);
    expect(await a.holder('lobby')).toMatchObject({ owner: 'node-b', epoch: second.epoch });
  });

  it('transfers a lease only from its holder with its epoch, to a new epoch and a full lease length', async () => {
    const prefix = fresh();
    const a = await node('node-a', 5000, prefix);
    const b = await node('node-b', 5000, prefix);
    const first = await a.acquire('lobby');
    if (!first.ok) throw new Error('expected the lease');
    // Not the holder, or not its epoch: refused, nothing changes.
    expect(await b.transfer('lobby', first.epoch, 'node-b')).toBeUndefined();
    expect(await a.transfer('lobby', first.epoch + 1, 'node-b')).toBeUndefined();
    expect(await a.transfer('elsewhere', first.epoch, 'node-b')).toBeUndefined();
    expect(await a.holder('elsewhere')).toBeUndefined();
    expect(await a.holder('lobby')).toMatchObject({ owner: 'node-a', epoch: first.epoch });

    // As if the lease had run down: the transfer sets a full lease length again.
    await (await redisServer.connect()).pexpire(`${prefix}lease:lobby`, 1000);
    expect((await a.holder('lobby'))!.remainingMs).toBeLessThanOrEqual(1000);
    const epoch = await a.transfer('lobby', first.epoch, 'node-b');
    expect(epoch).toBeGreaterThan(first.epoch);
    const holder = await b.holder('lobby');
    expect(holder).toMatchObject({ owner: 'node-b', epoch });
    expect(holder!.remainingMs).toBeGreaterThan(4800);
    // The giver's epoch is dead: it can neither renew, release nor transfer again; the taker renews.
    expect(await a.renew('lobby', first.epoch)).toBe(false);
    expect(await a.release('lobby', first.epoch)).toBe(false);
    expect(await a.transfer('lobby', first.epoch, 'node-c')).toBeUndefined();
    expect(await a.isCurrent('lobby', first.epoch)).toBe(false);
    expect(await b.renew('lobby', epoch!)).toBe(true);
    // The epoch counter moved with it: the next acquisition is above both.
    expect(await b.release('lobby', epoch!)).toBe(true);
    const next = await a.acquire('lobby');
    expect(next.ok && next.epoch).toBeGreaterThan(epoch!);
  });

  it('lets a frozen owner lose its lease: the next owner gets a new epoch, the old one is refused everywhere', async () => {
    const prefix = fresh();
    const frozen = await node('node-a', 300, prefix);
    const other = await node('node-b', 300, prefix);
    const first = await frozen.acquire('lobby');
    if (!first.ok) throw new Error('expected the lease');
    // node-a stops renewing (SIGSTOP, a long GC): node-b gets the canvas once Redis expires the lease.
    const second = await until(async () => {
      const r = await other.acquire('lobby');
      return r.ok ? r : undefined;
    });
    expect(second.epoch).toBeGreaterThan(first.epoch);
    // node-a resumes and carries on as if nothing happened: everything it tries is refused.
    expect(await frozen.renew('lobby', first.epoch)).toBe(false);
    expect(await frozen.release('lobby', first.epoch)).toBe(false);
    expect(await frozen.isCurrent('lobby', first.epoch)).toBe(false);
    expect(await other.isCurrent('lobby', first.epoch)).toBe(false);
    expect(await other.isCurrent('lobby', second.epoch)).toBe(true);
    expect(await other.renew('lobby', second.epoch)).toBe(true);
  });

  it('does not renew a lease after it expired, even when no one else took it', async () => {
    const prefix = fresh();
    const a = await node('node-a', 200, prefix);
    const first = await a.acquire('lobby');
    if (!first.ok) throw new Error('expected the lease');
    await until(async () => ((await a.holder('lobby')) === undefined ? true : undefined));
    expect(await a.renew('lobby', first.epoch)).toBe(false);
    const second = await a.acquire('lobby');
    expect(second.ok && second.epoch).toBeGreaterThan(first.epoch);
  });

  it('keeps epochs going up when Redis restarts empty (counter and script cache gone)', async () => {
    const prefix = fresh();
    const a = await node('node-a', 5000, prefix);
    const first = await a.acquire('lobby');
    if (!first.ok) throw new Error('expected the lease');
    await redisServer.server.restart();
    // Redis lost everything (nothing saved): the client reconnects, the script is sent again.
    const second = await until(async () => {
      try {
        const r = await a.acquire('lobby');
        return r.ok ? r : undefined;
      } catch {
        return undefined;
      }
    });
    expect(second.epoch).toBeGreaterThan(first.epoch);
  });
});
