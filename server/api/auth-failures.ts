import type { Clock } from '../stream/clock.js';

export interface AuthFailureOptions {
  clock: Clock;
  /** Distinct wrong tokens an address may send before it is slowed down. */
  free?: number;
  /** First wait after the free ones; it doubles with each further wrong token. */
  baseMs?: number;
  maxMs?: number;
  /** An address with no wrong token for this long starts afresh. */
  forgetMs?: number;
  /** Most addresses remembered; the oldest are dropped first, so memory stays bounded. */
  maxAddresses?: number;
}

interface Record {
  /** Fingerprints of the distinct wrong tokens seen (a stale token sent again is not a new guess). */
  guesses: Set<string>;
  lastAt: number;
  blockedUntil: number;
}

/**
 * Counts wrong tokens per client address and slows guessing down: after `free` distinct wrong
 * tokens the address must wait (1 s, 2 s, 4 s, … up to `maxMs`) before it may present any token
 * again. Only the guessing address waits: the right token from another address always works.
 * The same wrong token sent again (a kiosk or console with a stale token) is not counted twice,
 * so a misconfigured client keeps getting its clear 403 instead of being locked out.
 */
export function createAuthFailures(options: AuthFailureOptions) {
  const { clock } = options;
  const free = options.free ?? 5;
  const baseMs = options.baseMs ?? 1000;
  const maxMs = options.maxMs ?? 10 * 60_000;
  const forgetMs = options.forgetMs ?? 15 * 60_000;
  const maxAddresses = options.maxAddresses ?? 10_000;
  const records = new Map<string, Record>();

  const current = (address: string, now: number) => {
    const record = records.get(address);
    if (record && now - record.lastAt > forgetMs && now >= record.blockedUntil) {
      records.delete(address);
      return undefined;
    }
    return record;
  };

  return {
    /** Seconds the address must still wait before presenting a token, or 0. */
    waitSeconds(address: string): number {
      const now = clock.now();
      const record = current(address, now);
      return record && record.blockedUntil > now ? Math.max(1, Math.ceil((record.blockedUntil - now) / 1000)) : 0;
    },
    /** A wrong token from this address. */
    failed(address: string, fingerprint: string): void {
      const now = clock.now();
      let record = current(address, now);
      if (!record) {
        if (records.size >= maxAddresses) records.delete(records.keys().next().value as string);
        record = { guesses: new Set(), lastAt: now, blockedUntil: 0 };
      }
      records.delete(address);
      records.set(address, record); // most recent last, so the oldest go first when full
      record.lastAt = now;
      if (record.guesses.has(fingerprint)) return;
      if (record.guesses.size < 1000) record.guesses.add(fingerprint);
      else record.guesses = new Set([...record.guesses].slice(1)).add(fingerprint);
      const over = record.guesses.size + 1 - free;
      if (over > 0) record.blockedUntil = now + Math.min(maxMs, baseMs * 2 ** Math.min(over - 1, 30));
    },
    /** The right token from this address: its count starts again. */
    succeeded(address: string): void {
      records.delete(address);
    },
    get size() {
      return records.size;
    },
  };
}

export type AuthFailures = ReturnType<typeof createAuthFailures>;
