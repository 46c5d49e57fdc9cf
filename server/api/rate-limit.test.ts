import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createRateLimiter } from './rate-limit.js';

describe('createRateLimiter', () => {
  it('allows a burst, then refuses with the seconds until the next request may go', () => {
    const clock = new FakeClock(0);
    const limiter = createRateLimiter({ perMinute: 60, burst: 3, clock });
    expect([1, 2, 3].map(() => limiter.take('a').ok)).toEqual([true, true, true]);
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 1 });
    expect(limiter.take('b').ok).toBe(true);
    clock.advance(1000);
    expect(limiter.take('a').ok).toBe(true);
    expect(limiter.take('a').ok).toBe(false);
  });

  it('refills at the per-minute rate up to the burst, and forgets idle clients', () => {
    const clock = new FakeClock(0);
    const limiter = createRateLimiter({ perMinute: 6, burst: 2, clock, idleMs: 60_000 });
    limiter.take('a');
    limiter.take('a');
    expect(limiter.take('a')).toEqual({ ok: false, retryAfterSeconds: 10 });
    clock.advance(120_000);
    limiter.take('b');
    expect(limiter.size).toBe(1);
  });
});
