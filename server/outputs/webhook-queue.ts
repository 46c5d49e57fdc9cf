/**
 * One webhook's deliveries, in order: one request at a time, a failed one retried with
 * exponential backoff and jitter while the others wait behind it, and a bounded queue that
 * drops its oldest (counted, and marked in the log) when a receiver stays down longer than the
 * queue lasts. Nothing here waits on the caller: `push` returns at once, so an event emitted
 * from a canvas's pacer costs it an array push.
 */
import type { Clock } from '../stream/clock.js';

export type DeliveryState = 'queued' | 'sending' | 'retrying' | 'delivered' | 'failed' | 'dropped';

/** One delivery as the API lists it; the queue updates it in place. */
export interface DeliveryRecord {
  id: string;
  hook: number;
  event: string;
  canvas: string | null;
  state: DeliveryState;
  attempts: number;
  /** The receiver's last HTTP status, when it answered. */
  lastStatus?: number;
  lastError?: string;
  createdAt: string;
  lastAttemptAt?: string;
  nextAttemptAt?: string;
  endedAt?: string;
}

/** What one attempt came to; `retry` says whether trying again could help. */
export type AttemptResult =
  | { ok: true; status: number }
  | { ok: false; retry: boolean; status?: number; error: string; retryAfterMs?: number };

export interface BackoffOptions {
  /** Delay before the second attempt, ms (default 1000). */
  baseDelayMs?: number;
  /** Longest delay between attempts, ms (default 60 000). */
  maxDelayMs?: number;
}

export interface HookQueueOptions extends BackoffOptions {
  clock: Clock;
  /** One attempt; must not throw (a throw counts as a network error). */
  attempt: (record: DeliveryRecord) => Promise<AttemptResult>;
  /** Deliveries waiting behind the one in flight; past it the oldest is dropped (default 256). */
  maxQueue?: number;
  /** Attempts before a delivery is given up as failed (default 8: about 2 minutes of retrying). */
  maxAttempts?: number;
  /** 0 ≤ x < 1; default Math.random. */
  random?: () => number;
  /** Told when a delivery ends (delivered, failed or dropped). */
  onEnded?: (record: DeliveryRecord) => void;
}

/**
 * Delay before attempt `attempt + 1`, after `attempt` failed: base · 2^(attempt−1), capped, then
 * drawn from its upper half so receivers coming back up are not hit by every sender at once.
 * A receiver's Retry-After is honoured up to the cap.
 */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number, retryAfterMs?: number): number {
  const base = options.baseDelayMs ?? 1000;
  const max = options.maxDelayMs ?? 60_000;
  const exponential = Math.min(max, base * 2 ** Math.max(0, attempt - 1));
  const jittered = exponential / 2 + (exponential / 2) * random();
  return Math.round(retryAfterMs === undefined ? jittered : Math.max(jittered, Math.min(retryAfterMs, max)));
}

export interface HookQueueStats {
  delivered: number;
  failed: number;
  dropped: number;
  /** Attempts that did not deliver (each retry, and each last try). */
  failedAttempts: number;
}

export function createHookQueue(options: HookQueueOptions) {
  const { clock } = options;
  const maxQueue = options.maxQueue ?? 256;
  const maxAttempts = options.maxAttempts ?? 8;
  const random = options.random ?? Math.random;
  const iso = (ms: number) => new Date(ms).toISOString();
  const waiting: DeliveryRecord[] = [];
  const stats: HookQueueStats = { delivered: 0, failed: 0, dropped: 0, failedAttempts: 0 };
  let current: DeliveryRecord | undefined;
  let timer: unknown;
  let kick: unknown;
  let closed = false;

  const end = (record: DeliveryRecord, state: 'delivered' | 'failed' | 'dropped') => {
    record.state = state;
    record.endedAt = iso(clock.now());
    delete record.nextAttemptAt;
    stats[state]++;
    options.onEnded?.(record);
  };

  function next() {
    current = undefined;
    if (closed) return;
    const record = waiting.shift();
    if (!record) return;
    current = record;
    void attempt(record);
  }

  async function attempt(record: DeliveryRecord) {
    timer = undefined;
    record.attempts++;
    record.state = 'sending';
    record.lastAttemptAt = iso(clock.now());
    delete record.nextAttemptAt;
    let result: AttemptResult;
    try {
      result = await options.attempt(record);
    } catch (err) {
      result = { ok: false, retry: true, error: (err as Error).message };
    }
    if (closed) return;
    if (result.ok) {
      record.lastStatus = result.status;
      delete record.lastError;
      end(record, 'delivered');
      return next();
    }
    stats.failedAttempts++;
    record.lastError = result.error;
    if (result.status !== undefined) record.lastStatus = result.status;
    if (!result.retry || record.attempts >= maxAttempts) {
      end(record, 'failed');
      return next();
    }
    const delay = backoffDelay(record.attempts, options, random, result.retryAfterMs);
    record.state = 'retrying';
    record.nextAttemptAt = iso(clock.now() + delay);
    timer = clock.setTimeout(() => void attempt(record), delay);
  }

  return {
    stats,
    /** Queues a delivery; returns at once. */
    push(record: DeliveryRecord) {
      if (closed) return;
      record.state = 'queued';
      waiting.push(record);
      while (waiting.length > maxQueue) end(waiting.shift()!, 'dropped');
      // Started on a later turn: the event's emitter (a pacer, a socket's close) never runs a request.
      if (!current && kick === undefined)
        kick = clock.setTimeout(() => {
          kick = undefined;
          if (!current) next();
        }, 0);
    },
    /** Deliveries not yet ended (the one in flight and those behind it). */
    get pending(): number {
      return waiting.length + (current ? 1 : 0);
    },
    /** Stops: no more attempts; what was pending is left as it was. Returns how many were pending. */
    close(): number {
      const pending = waiting.length + (current ? 1 : 0);
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      if (kick !== undefined) clock.clearTimeout(kick);
      waiting.length = 0;
      return pending;
    },
  };
}

export type HookQueue = ReturnType<typeof createHookQueue>;
