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
  logger?: Logger;
}

export interface HeldLease {
  slug: string;
  epoch: number;
}

export interface LeaseKeeper {
  /** Keeps renewing a lease just acquired; `sentAt` is when the acquire was sent. */
  hold(slug: string, epoch: number, sentAt: number): void;
  /** Whether this node may produce the canvas with this epoch now (local view, no round trip). */
  isHeld(slug: string, epoch: number): boolean;
  held(): HeldLease[];
  /** Stops renewing and gives the lease back so another node can take it at once. */
  drop(slug: string): Promise<void>;
  /** Drops every lease. */
  close(): Promise<void>;
}

interface Entry {
  epoch: number;
  confirmedAt: number;
  renewing: boolean;
}

export function createLeaseKeeper(options: LeaseKeeperOptions): LeaseKeeper {
  const { store, clock, onLost, logger } = options;
  const { leaseMs } = store;
  const leases = new Map<string, Entry>();
  let timer: unknown;
  let closed = false;

  const lose = (slug: string, entry: Entry, reason: LostReason) => {
    if (leases.get(slug) !== entry) return;
    leases.delete(slug);
    logger?.warn({ slug, epoch: entry.epoch, reason }, 'Canvas lease lost: this node stops producing it');
    onLost(slug, entry.epoch, reason);
  };

  const renew = async (slug: string, entry: Entry) => {
    const sentAt = clock.now();
    entry.renewing = true;
    try {
      if (await store.renew(slug, entry.epoch)) entry.confirmedAt = sentAt;
      else lose(slug, entry, 'taken');
    } catch {
      // Redis unreachable: keep trying until the lease runs out by our own clock.
    } finally {
      entry.renewing = false;
    }
  };

  const tick = () => {
    timer = undefined;
    if (closed) return;
    const now = clock.now();
    for (const [slug, entry] of leases) {
      if (standing(entry.confirmedAt, now, leaseMs) === 'lost') lose(slug, entry, 'expired');
      else if (!entry.renewing) void renew(slug, entry);
    }
    schedule();
  };

  const schedule = () => {
    if (timer === undefined && !closed && leases.size > 0) timer = clock.setTimeout(tick, renewIntervalOf(leaseMs));
  };

  const keeper: LeaseKeeper = {
    hold(slug, epoch, sentAt) {
      leases.set(slug, { epoch, confirmedAt: sentAt, renewing: false });
      schedule();
    },
    isHeld(slug, epoch) {
      const entry = leases.get(slug);
      if (!entry || entry.epoch !== epoch) return false;
      if (standing(entry.confirmedAt, clock.now(), leaseMs) === 'held') return true;
      lose(slug, entry, 'expired');
      return false;
    },
    held: () => [...leases].map(([slug, e]) => ({ slug, epoch: e.epoch })),
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
