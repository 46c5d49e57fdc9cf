import type { Clock } from '../stream/clock.js';

export interface RateLimitOptions {
  perMinute: number;
  burst: number;
  clock: Clock;
  /** Buckets idle this long are forgotten, so memory stays bounded by active clients. */
  idleMs?: number;
}

/**
 * Token buckets by key (a client address, a token's hash): `burst` requests at once, refilled
 * at `perMinute`. take() says whether a request may go ahead, or in how many seconds it may.
 */
export function createRateLimiter(options: RateLimitOptions) {
  const { perMinute, burst, clock } = options;
  const perMs = perMinute / 60_000;
  const idleMs = options.idleMs ?? 10 * 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = clock.now();

  return {
    take(key: string): { ok: true } | { ok: false; retryAfterSeconds: number } {
      const now = clock.now();
      if (now - lastSweep > idleMs) {
        for (const [k, b] of buckets) if (now - b.at > idleMs) buckets.delete(k);
        lastSweep = now;
      }
      const bucket = buckets.get(key) ?? { tokens: burst, at: now };
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) * perMs);
      bucket.at = now;
      buckets.set(key, bucket);
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return { ok: true };
      }
      return { ok: false, retryAfterSeconds: Math.max(1, Math.ceil((1 - bucket.tokens) / perMs / 1000)) };
    },
    get size() {
      return buckets.size;
    },
  };
}
