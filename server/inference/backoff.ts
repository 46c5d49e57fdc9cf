/**
 * Exponential backoff with jitter, for reconnecting to inference endpoints and retrying
 * generation. The schedule is a pure function of the attempt number and a random draw, so it
 * is tested with plain numbers; the waiting goes through an injected clock, so code that backs
 * off is tested without sleeping.
 */
import { systemClock, type Clock } from '../stream/clock.js';

export interface BackoffOptions {
  /** Delay before the first retry, ms. Default 500. */
  initialMs?: number;
  /** Growth per failed attempt. Default 1.6 (gRPC's connection backoff). */
  factor?: number;
  /** Longest delay, ms. Default 15000: an installation should recover within seconds. */
  maxMs?: number;
  /** Spread, 0..1: the delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  jitter?: number;
}

export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  initialMs: 500,
  factor: 1.6,
  maxMs: 15_000,
  jitter: 0.2,
};

/**
 * The delay before retry number `attempt` (0 for the first retry). Jitter keeps several
 * canvases (or several Easel servers) from hammering a recovering GPU in lockstep.
 *
 * @example
 * backoffDelay(0, {}, () => 0.5) // 500
 * backoffDelay(3, {}, () => 0.5) // 2048 (500 * 1.6^3)
 * backoffDelay(20, {}, () => 1)  // 18000 at most (15000 * 1.2)
 */
export function backoffDelay(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  if (!Number.isInteger(attempt) || attempt < 0) {
    throw new RangeError(`Expected a non-negative integer for attempt but received ${String(attempt)}`);
  }
  const { initialMs, factor, maxMs, jitter } = { ...DEFAULT_BACKOFF, ...options };
  const base = Math.min(maxMs, initialMs * factor ** attempt);
  const spread = 1 + jitter * (2 * random() - 1);
  return Math.round(base * spread);
}

/**
 * Counts consecutive failures and hands out the matching delay; `reset()` after a success.
 *
 * @example
 * const backoff = createBackoff({ initialMs: 100 });
 * await delay(backoff.next(), { signal });
 */
export interface Backoff {
  /** The delay to wait now; each call counts one more failure. */
  next(): number;
  /** Back to the first delay, after a success. */
  reset(): void;
  /** Failures counted since the last reset. */
  readonly attempts: number;
}

export function createBackoff(options: BackoffOptions = {}, random: () => number = Math.random): Backoff {
  let attempts = 0;
  return {
    next() {
      const ms = backoffDelay(attempts, options, random);
      attempts += 1;
      return ms;
    },
    reset() {
      attempts = 0;
    },
    get attempts() {
      return attempts;
    },
  };
}

export interface DelayOptions {
  signal?: AbortSignal;
  clock?: Pick<Clock, 'setTimeout' | 'clearTimeout'>;
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it aborts (and clears
 * the timer, so nothing keeps the process alive).
 */
export function delay(ms: number, { signal, clock = systemClock }: DelayOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(handle);
      reject(signal?.reason);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
