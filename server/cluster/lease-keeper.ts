import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { LeaseStore } from './lease.js';

/** Leases are renewed three times per lease length: two renewals can fail before one runs out. */
export const renewIntervalOf = (leaseMs: number): number => Math.floor(leaseMs / 3);

/**
 * Local time still needed before a lease's end, ms: the local clock may run a little faster or
 * slower than Redis's, and a publish must never land after Redis has let the lease go.
 */
export const safetyMarginOf = (leaseMs: number): number => Math.floor(leaseMs / 10);

export type Standing = 'held' | 'lost';

/**
 * Pure: whether a lease may still be used at `now`, by this node's clock alone. `confirmedAt` is
 * when the last acquire or renewal that succeeded was *sent* (Redis set the expiry after that,
 * so the lease lasts at least until confirmedAt + leaseMs). A node frozen past that point finds
 * itself lost the moment it runs again, before it can publish.
 */
export function standing(confirmedAt: number, now: number, leaseMs: number): Standing {
  return now < confirmedAt + leaseMs - safetyMarginOf(leaseMs) ? 'held' : 'lost';
}

export type LostReason = 'expired' | 'taken';

export interface LeaseKeeperOptions {
  store: LeaseStore;
  clock: Clock;
  /** Called once per lease that stops being ours: stop producing the canvas. */
  onLost: (slug: string, epoch: number, reason: LostReason) => void;
  /**
   * Whether the Redis connection is down now (closed, refused), not merely slow. A lease that
   * runs out meanwhile becomes an island instead of lost: see `islanded`. Absent: never.
   */
  redisDown?: () => boolean;
  logger?: Logger;
}

/** What the keeper did since the node started, for metrics. */
export interface LeaseStats {
  acquired: number;
  lost: Record<LostReason, number>;
  renewFailed: number;
  /** Leases that ran out while Redis was down, kept for this node's own displays (see `islanded`). */
  islands: number;
  /** Islands that got their lease back (renewed, or taken again with a new epoch) when Redis returned. */
  rejoined: number;
}

export interface HeldLease {
  slug: string;
  epoch: number;
}

export interface LeaseKeeper {
  /** Keeps renewing a lease just acquired; `sentAt` is when the acquire was sent. */
  hold(slug: string, epoch: number, sentAt: number): void;
  /** Whether this node may publish the canvas with this epoch now (local view, no round trip). */
  isHeld(slug: string, epoch: number): boolean;
  /**
   * Whether the canvas is an island: its lease ran out while Redis was down, so this node keeps
   * producing it for its own displays only (it cannot publish: it holds no lease). When Redis is
   * back the lease is renewed, taken again, or, if another node took it, lost.
   */
  islanded(slug: string): boolean;
  /** Leases held and islands alike: the canvases this node produces. */
  held(): HeldLease[];
  /** Redis is back: islands try to get their lease back now rather than at the next interval. */
  rejoin(): void;
  readonly stats: Readonly<LeaseStats>;
  /**
   * A planned handover: stops using the lease at once (nothing more is published with it), then
   * gives it to node `to` in Redis. The new epoch (`to`'s), or undefined when Redis refused (the
   * lease was no longer ours) or could not be asked (the lease then runs out, as after a drop).
   */
  transfer(slug: string, to: string): Promise<number | undefined>;
  /**
   * Takes over a lease another node transferred to this one: confirmed with a renewal (the only
   * way to know when it runs out by this node's clock), then kept like one acquired. True only
   * when newly adopted: false when it is not ours with that epoch, or this node holds it already.
   */
  adopt(slug: string, epoch: number): Promise<boolean>;
  /** Stops renewing and gives the lease back so another node can take it at once. */
  drop(slug: string): Promise<void>;
  /** Drops every lease. */
  close(): Promise<void>;
}

interface Entry {
  epoch: number;
  confirmedAt: number;
  renewing: boolean;
  island: boolean;
}

export function createLeaseKeeper(options: LeaseKeeperOptions): LeaseKeeper {
  const { store, clock, onLost, logger } = options;
  const { leaseMs } = store;
  const leases = new Map<string, Entry>();
  let timer: unknown;
  let closed = false;
  const stats: LeaseStats = { acquired: 0, lost: { expired: 0, taken: 0 }, renewFailed: 0, islands: 0, rejoined: 0 };

  const lose = (slug: string, entry: Entry, reason: LostReason) => {
    if (leases.get(slug) !== entry) return;
    leases.delete(slug);
    stats.lost[reason]++;
    logger?.warn({ slug, epoch: entry.epoch, reason }, 'Canvas lease lost: this node stops producing it');
    onLost(slug, entry.epoch, reason);
  };

  /**
   * Only a connection known to be down makes an island. A node frozen (SIGSTOP) past its lease
   * finds its connection up when it resumes: its lease is lost, as it must be, since another
   * node may hold it by now.
   */
  const expire = (slug: string, entry: Entry) => {
    if (!options.redisDown?.()) return lose(slug, entry, 'expired');
    entry.island = true;
    stats.islands++;
    logger?.warn(
      { slug, epoch: entry.epoch },
      'Canvas lease ran out while Redis is unreachable: this node keeps producing it for its own displays only and relays nothing',
    );
  };

  const renew = async (slug: string, entry: Entry) => {
    const sentAt = clock.now();
    entry.renewing = true;
    try {
      if (await store.renew(slug, entry.epoch)) entry.confirmedAt = sentAt;
      else if (!entry.island) lose(slug, entry, 'taken');
      else {
        // An island whose lease Redis forgot (restarted empty) takes it again, with a new epoch,
        // unless another node was quicker.
        const got = await store.acquire(slug);
        if (!got.ok) return lose(slug, entry, 'taken');
        entry.epoch = got.epoch;
        entry.confirmedAt = sentAt;
      }
      if (entry.island) {
        entry.island = false;
        stats.rejoined++;
        logger?.info({ slug, epoch: entry.epoch }, 'Redis is back and this node still holds the canvas: it relays its frames again');
      }
    } catch {
      // Redis unreachable: keep trying until the lease runs out by our own clock (or, an island, until Redis answers).
      stats.renewFailed++;
    } finally {
      entry.renewing = false;
    }
  };

  const tick = () => {
    timer = undefined;
    if (closed) return;
    const now = clock.now();
    for (const [slug, entry] of leases) {
      if (!entry.island && standing(entry.confirmedAt, now, leaseMs) === 'lost') expire(slug, entry);
      if (!entry.renewing && leases.get(slug) === entry) void renew(slug, entry);
    }
    schedule();
  };

  const schedule = () => {
    if (timer === undefined && !closed && leases.size > 0) timer = clock.setTimeout(tick, renewIntervalOf(leaseMs));
  };

  const keeper: LeaseKeeper = {
    hold(slug, epoch, sentAt) {
      leases.set(slug, { epoch, confirmedAt: sentAt, renewing: false, island: false });
      stats.acquired++;
      schedule();
    },
    isHeld(slug, epoch) {
      const entry = leases.get(slug);
      if (!entry || entry.epoch !== epoch || entry.island) return false;
      if (standing(entry.confirmedAt, clock.now(), leaseMs) === 'held') return true;
      expire(slug, entry);
      return false;
    },
    islanded: (slug) => leases.get(slug)?.island === true,
    held: () => [...leases].map(([slug, e]) => ({ slug, epoch: e.epoch })),
    rejoin() {
      for (const [slug, entry] of leases) if (entry.island && !entry.renewing) void renew(slug, entry);
    },
    get stats() {
      return stats;
    },
    async transfer(slug, to) {
      const entry = leases.get(slug);
      if (!entry || entry.island) return undefined;
      leases.delete(slug);
      return store.transfer(slug, entry.epoch, to).catch(() => undefined);
    },
    async adopt(slug, epoch) {
      if (leases.has(slug) || closed) return false;
      const sentAt = clock.now();
      if (!(await store.renew(slug, epoch).catch(() => false)) || leases.has(slug) || closed) return false;
      keeper.hold(slug, epoch, sentAt);
      return true;
    },
    async drop(slug) {
      const entry = leases.get(slug);
      if (!entry) return;
      leases.delete(slug);
      await store.release(slug, entry.epoch).catch(() => false);
    },
    async close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await Promise.all([...leases.keys()].map((slug) => keeper.drop(slug)));
    },
  };
  return keeper;
}
