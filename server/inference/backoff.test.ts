import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { backoffDelay, createBackoff, delay } from './backoff.js';

describe('backoffDelay', () => {
  it('grows by the factor from the initial delay and stops at the maximum', () => {
    const options = { initialMs: 100, factor: 2, maxMs: 1000, jitter: 0.2 };
    const schedule = [0, 1, 2, 3, 4, 5, 10].map((attempt) => backoffDelay(attempt, options, () => 0.5));
    expect(schedule).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it('uses gRPC-like defaults: 500 ms growing by 1.6 up to 15 s', () => {
    expect(backoffDelay(0, {}, () => 0.5)).toBe(500);
    expect(backoffDelay(1, {}, () => 0.5)).toBe(800);
    expect(backoffDelay(50, {}, () => 0.5)).toBe(15_000);
  });

  it('spreads each delay by the jitter fraction either way', () => {
    const options = { initialMs: 1000, jitter: 0.2 };
    expect(backoffDelay(0, options, () => 0)).toBe(800);
    expect(backoffDelay(0, options, () => 0.999_999)).toBe(1200);
    expect(backoffDelay(0, { ...options, jitter: 0 }, () => 0)).toBe(1000);
  });

  it('throws a RangeError for an attempt that is not a non-negative integer', () => {
    expect(() => backoffDelay(-1)).toThrow(RangeError);
    expect(() => backoffDelay(1.5)).toThrow('Expected a non-negative integer for attempt but received 1.5');
  });
});

describe('createBackoff', () => {
  it('counts failures and starts over after reset', () => {
    const backoff = createBackoff({ initialMs: 10, factor: 3, jitter: 0 });
    expect([backoff.next(), backoff.next(), backoff.next()]).toEqual([10, 30, 90]);
    expect(backoff.attempts).toBe(3);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(backoff.next()).toBe(10);
  });
});

describe('delay', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resolves once the time has passed, without sleeping', async () => {
    vi.useFakeTimers();
    let done = false;
    const waiting = delay(5_000).then(() => {
      done = true;
    });
    await vi.advanceTimersByTimeAsync(4_999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    await waiting;
    expect(done).toBe(true);
  });

  it('rejects with the reason as soon as the signal aborts, and clears its timer', async () => {
    vi.useFakeTimers();
    const controller = new AbortController();
    const waiting = delay(60_000, { signal: controller.signal });
    expect(vi.getTimerCount()).toBe(1);
    controller.abort(new Error('prompt changed'));
    await expect(waiting).rejects.toThrow('prompt changed');
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects at once for a signal that already aborted', async () => {
    await expect(delay(10, { signal: AbortSignal.abort(new Error('closed')) })).rejects.toThrow('closed');
  });

  it('waits on an injected clock', async () => {
    const clock = new FakeClock();
    let done = false;
    const waiting = delay(1234, { clock }).then(() => {
      done = true;
    });
    clock.advance(1233);
    await Promise.resolve();
    expect(done).toBe(false);
    clock.advance(1);
    await waiting;
    expect(done).toBe(true);
  });
});
