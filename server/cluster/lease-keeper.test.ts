import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createLeaseKeeper, renewIntervalOf, standing, type LostReason } from './lease-keeper.js';
import type { LeaseStore } from './lease.js';

const LEASE = 3000;

/** A store whose every renewal answers what the test says: true, false, or an unreachable Redis. */
function scriptedStore() {
  const calls: string[] = [];
  let answer: boolean | 'down' = true;
  let acquired: { ok: true; epoch: number } | { ok: false; owner: string; epoch: number; remainingMs: number } = { ok: true, epoch: 1 };
  const store: LeaseStore = {
    leaseMs: LEASE,
    acquire: async (slug) => {
      calls.push(`acquire ${slug}`);
      if (answer === 'down') throw new Error('Connection is closed.');
      return acquired;
    },
    renew: async (slug, epoch) => {
      calls.push(`renew ${slug} ${epoch}`);
      if (answer === 'down') throw new Error('Connection is closed.');
      return answer;
    },
    release: async (slug, epoch) => {
      calls.push(`release ${slug} ${epoch}`);
      return true;
    },
    transfer: async (slug, epoch, to) => {
      calls.push(`transfer ${slug} ${epoch} ${to}`);
      return epoch + 1;
    },
    isCurrent: async () => true,
    holder: async () => undefined,
  };
  return { store, calls, answer: (a: boolean | 'down') => (answer = a), acquireAnswer: (a: typeof acquired) => (acquired = a) };
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Steps the fake clock one renewal interval at a time, letting each renewal's reply arrive. */
async function advance(clock: FakeClock, ms: number) {
  for (let left = ms; left > 0; left -= renewIntervalOf(LEASE)) {
    clock.advance(Math.min(left, renewIntervalOf(LEASE)));
    await flush();
  }
}

describe('standing', () => {
  it('holds a lease until its end less a safety margin, counted from when the renewal was sent', () => {
    expect(standing(0, 0, LEASE)).toBe('held');
    expect(standing(0, 2699, LEASE)).toBe('held');
    expect(standing(0, 2700, LEASE)).toBe('lost');
    expect(standing(1000, 3000, LEASE)).toBe('held');
  });
});

describe('lease keeper', () => {
  it('renews every third of the lease and keeps it while Redis agrees', async () => {
    const clock = new FakeClock();
    const { store, calls } = scriptedStore();
    const lost: string[] = [];
    const keeper = createLeaseKeeper({ store, clock, onLost: (s) => lost.push(s) });
    keeper.hold('lobby', 7, clock.now());
    await advance(clock, 10 * LEASE);
    expect(calls.filter((c) => c === 'renew lobby 7').length).toBeGreaterThanOrEqual(29);
    expect(keeper.isHeld('lobby', 7)).toBe(true);
    expect(keeper.isHeld('lobby', 6)).toBe(false);
    expect(lost).toEqual([]);
    await keeper.close();
    expect(calls.at(-1)).toBe('release lobby 7');
  });

  it('gives the canvas up at once when Redis says another holds it', async () => {
    const clock = new FakeClock();
    const { store, answer } = scriptedStore();
    const lost: [string, number, LostReason][] = [];
    const keeper = createLeaseKeeper({ store, clock, onLost: (...a) => lost.push(a) });
    keeper.hold('lobby', 7, clock.now());
    answer(false);
    await advance(clock, renewIntervalOf(LEASE));
    expect(lost).toEqual([['lobby', 7, 'taken']]);
    expect(keeper.isHeld('lobby', 7)).toBe(false);
    expect(keeper.held()).toEqual([]);
  });

  it('keeps producing through a short Redis outage, and stops before the lease can have run out', async () => {
    const clock = new FakeClock();
    const { store, answer } = scriptedStore();
    const lost: LostReason[] = [];
    const keeper = createLeaseKeeper({ store, clock, onLost: (_s, _e, r) => lost.push(r) });
    keeper.hold('lobby', 7, clock.now());
    await advance(clock, LEASE);
    answer('down');
    // The last renewal that worked was sent at LEASE; one interval later it is still held.
    await advance(clock, renewIntervalOf(LEASE));
    expect(keeper.isHeld('lobby', 7)).toBe(true);
    await advance(clock, LEASE);
    expect(lost).toEqual(['expired']);
    expect(keeper.isHeld('lobby', 7)).toBe(false);
  });

  it('finds a lease lost the moment a frozen node runs again, before any timer fires', async () => {
    const timers = new FakeClock();
    // SIGSTOP: the wall clock moves on and no timer runs; on SIGCONT the first thing asked is whether to publish.
    let frozenFor = 0;
    const clock = {
      now: () => timers.now() + frozenFor,
      setTimeout: timers.setTimeout.bind(timers),
      clearTimeout: timers.clearTimeout.bind(timers),
    };
    const { store } = scriptedStore();
    const lost: LostReason[] = [];
    const keeper = createLeaseKeeper({ store, clock, onLost: (_s, _e, r) => lost.push(r) });
    keeper.hold('lobby', 7, clock.now());
    frozenFor = 2 * LEASE;
    expect(keeper.isHeld('lobby', 7)).toBe(false);
    expect(lost).toEqual(['expired']);
    await keeper.close();
  });
});

describe('lease keeper in a planned handover', () => {
  it('stops using a lease the moment it transfers it, and renews it no more', async () => {
    const clock = new FakeClock();
    const { store, calls } = scriptedStore();
    const lost: string[] = [];
    const keeper = createLeaseKeeper({ store, clock, onLost: (s) => lost.push(s) });
    keeper.hold('lobby', 7, clock.now());
    const transferring = keeper.transfer('lobby', 'node-b');
    // Before Redis even answers: nothing more is published with epoch 7.
    expect(keeper.isHeld('lobby', 7)).toBe(false);
    expect(await transferring).toBe(8);
    await advance(clock, 2 * LEASE);
    expect(calls).toEqual(['transfer lobby 7 node-b']);
    expect(lost).toEqual([]);
    expect(await keeper.transfer('lobby', 'node-b')).toBeUndefined();
  });

  it('adopts a lease handed to it only once Redis confirms it is its own, and renews it from then on', async () => {
    const clock = new FakeClock();
    const { store, calls, answer } = scriptedStore();
    const keeper = createLeaseKeeper({ store, clock, onLost: () => undefined });
    answer(false);
    expect(await keeper.adopt('lobby', 8)).toBe(false);
    expect(keeper.isHeld('lobby', 8)).toBe(false);
    answer(true);
    const [first, second] = await Promise.all([keeper.adopt('lobby', 8), keeper.adopt('lobby', 8)]);
    // Heard twice (a notice, and placement finding it): adopted once.
    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect(keeper.isHeld('lobby', 8)).toBe(true);
    expect(await keeper.adopt('lobby', 8)).toBe(false);
    await advance(clock, LEASE);
    expect(calls.filter((c) => c === 'renew lobby 8').length).toBeGreaterThanOrEqual(5);
    expect(keeper.isHeld('lobby', 8)).toBe(true);
  });
});

describe('lease keeper while the Redis connection is down (islands)', () => {
  /** A keeper whose lease has just run out while Redis is down; `down` says what the connection says. */
  async function islanded() {
    const clock = new FakeClock();
    const scripted = scriptedStore();
    const lost: LostReason[] = [];
    const connection = { down: false };
    const keeper = createLeaseKeeper({
      store: scripted.store,
      clock,
      onLost: (_s, _e, r) => lost.push(r),
      redisDown: () => connection.down,
    });
    keeper.hold('lobby', 7, clock.now());
    scripted.answer('down');
    connection.down = true;
    await advance(clock, 2 * LEASE);
    return { clock, keeper, lost, connection, ...scripted };
  }

  it('keeps producing a canvas whose lease ran out while Redis is down, but not as its lease holder', async () => {
    const { keeper, lost } = await islanded();
    expect(lost).toEqual([]);
    expect(keeper.islanded('lobby')).toBe(true);
    // Not held: nothing may be published to the other nodes on this epoch.
    expect(keeper.isHeld('lobby', 7)).toBe(false);
    expect(keeper.held()).toEqual([{ slug: 'lobby', epoch: 7 }]);
    expect(keeper.stats).toMatchObject({ islands: 1, lost: { expired: 0, taken: 0 } });
    expect(keeper.stats.renewFailed).toBeGreaterThanOrEqual(5);
  });

  it('holds the lease again when Redis is back and still has it', async () => {
    const { keeper, lost, connection, answer, calls } = await islanded();
    connection.down = false;
    answer(true);
    keeper.rejoin();
    await flush();
    expect(calls.at(-1)).toBe('renew lobby 7');
    expect(keeper.isHeld('lobby', 7)).toBe(true);
    expect(keeper.islanded('lobby')).toBe(false);
    expect(lost).toEqual([]);
    expect(keeper.stats.rejoined).toBe(1);
  });

  it('takes the lease again with a new epoch when Redis came back empty', async () => {
    const { keeper, lost, connection, answer, acquireAnswer } = await islanded();
    connection.down = false;
    answer(false);
    acquireAnswer({ ok: true, epoch: 9 });
    keeper.rejoin();
    await flush();
    expect(keeper.isHeld('lobby', 9)).toBe(true);
    expect(keeper.isHeld('lobby', 7)).toBe(false);
    expect(keeper.held()).toEqual([{ slug: 'lobby', epoch: 9 }]);
    expect(lost).toEqual([]);
  });

  it('stops producing when Redis is back and another node holds the lease', async () => {
    const { keeper, lost, connection, answer, acquireAnswer, clock } = await islanded();
    connection.down = false;
    answer(false);
    acquireAnswer({ ok: false, owner: 'node-b', epoch: 9, remainingMs: LEASE });
    // No rejoin() call: the next renewal interval finds out as well.
    await advance(clock, renewIntervalOf(LEASE));
    expect(lost).toEqual(['taken']);
    expect(keeper.islanded('lobby')).toBe(false);
    expect(keeper.held()).toEqual([]);
  });

  it('still loses a lease that ran out while the connection was up (a frozen node, a slow Redis)', async () => {
    const clock = new FakeClock();
    const { store, answer } = scriptedStore();
    const lost: LostReason[] = [];
    const keeper = createLeaseKeeper({ store, clock, onLost: (_s, _e, r) => lost.push(r), redisDown: () => false });
    keeper.hold('lobby', 7, clock.now());
    answer('down'); // renewals fail, but the connection is not known to be down
    await advance(clock, 2 * LEASE);
    expect(lost).toEqual(['expired']);
    expect(keeper.islanded('lobby')).toBe(false);
  });
});
