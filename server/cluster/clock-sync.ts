import { createClockEstimator, type ClockEstimate } from '../../protocol/clock-estimator.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { ReferenceClock } from './reference-clock.js';

/**
 * How this node learns the cluster's time: bursts of Redis `TIME` round trips, read the way a
 * display reads its pongs (protocol/clock-estimator.ts: intervals of ± half the round trip, the
 * narrowest trusted, outliers set aside, three that agree elsewhere make a jump), steer the
 * reference clock that everything this node gives out is stamped on.
 */

/**
 * Beyond this a node's own clock is "far" (it is corrected, but its host needs NTP), and a
 * correction this uncertain is "unsynced" (its screens may change visibly apart from other nodes').
 */
export const MAX_CLOCK_OFFSET_MS = 50;

/**
 * The longest step back the cluster clock takes, by holding still that long (every screen keeps
 * its frame a moment longer). Redis's clock going back further (its host's clock set back, Redis
 * moved to a host whose clock is behind) is not followed: holding for minutes would freeze the
 * walls. A jump forward is always followed: it is also what a node's own clock does after the
 * machine was suspended (its monotonic clock stops meanwhile).
 */
export const MAX_STEP_BACK_MS = 1000;

/** `ok`: own clock within the bound; `far`: own clock off, corrected; `unsynced`: the correction cannot be vouched for. */
export type ClockState = 'ok' | 'far' | 'unsynced';

export interface NodeClock {
  /** Redis's clock minus this node's own, ms; null before the first measurement (or when all have aged out). */
  offsetMs: number | null;
  /** How far offsetMs may be off, ms. */
  errorMs: number | null;
  /** What this node adds to its own clock now to get the cluster's time, ms (follows offsetMs). */
  correctionMs: number;
  state: ClockState;
}

/** Pure: what a node's clock figures mean. */
export function judgeClock(estimate: ClockEstimate | null, correctionMs: number, boundMs = MAX_CLOCK_OFFSET_MS): ClockState {
  if (!estimate || estimate.errorMs > boundMs || Math.abs(estimate.offsetMs - correctionMs) > boundMs) return 'unsynced';
  return Math.abs(estimate.offsetMs) > boundMs ? 'far' : 'ok';
}

/** A plain-words entry of /readyz. */
export interface ClockNotice {
  code?: string;
  reason: string;
  hint: string;
}

/**
 * Pure: what /readyz says of the clock. Unsynced (with Redis up: Redis down is said on its own)
 * degrades, since this node's screens may be visibly out of step; far only warns, since it is
 * corrected and taking the node out of a load balancer would not help.
 */
export function clockReadiness(clock: NodeClock, redis: { state: string }): { problem?: ClockNotice; warning?: ClockNotice } {
  if (clock.state === 'unsynced' && redis.state === 'up')
    return {
      problem: {
        code: 'EASEL_ERR_CLOCK_UNSYNCED' satisfies ErrorCode,
        reason:
          clock.offsetMs === null
            ? "This node has not measured its clock against Redis's yet: its screens may change out of step with other nodes'"
            : `This node knows the cluster's time only to within ${Math.round(Math.max(clock.errorMs ?? 0, Math.abs(clock.offsetMs - clock.correctionMs)))} ms (bound ${MAX_CLOCK_OFFSET_MS} ms): its screens may change out of step with other nodes'`,
        hint: 'Keep Redis on a short, quiet network path from every node and run NTP (chrony) on every node; it settles by itself within seconds of a measurement that is good enough',
      },
    };
  if (clock.state === 'far' && clock.offsetMs !== null)
    return {
      warning: {
        reason: `This node's clock is ${Math.abs(Math.round(clock.offsetMs))} ms ${clock.offsetMs < 0 ? 'ahead of' : 'behind'} Redis's; Easel corrects for it, so screens stay in step`,
        hint: 'Run NTP (chrony) on every node and on the Redis host',
      },
    };
  return {};
}

export interface ClockSyncOptions {
  /** Redis `TIME`: seconds and microseconds, as strings. */
  time: () => Promise<ReadonlyArray<string | number>>;
  /** This node's own clock: samples are taken on it. */
  local: Clock;
  reference: ReferenceClock;
  nodeId: string;
  logger?: Logger;
  /** Between bursts, ms; a burst that found something odd is followed sooner. */
  intervalMs?: number;
  /** Round trips per burst. */
  samples?: number;
}

export interface ClockSync {
  /** Measures now and then every interval. */
  start(): void;
  /** One burst now (also what start's loop runs); resolves with the outcome. */
  measure(): Promise<NodeClock>;
  status(): NodeClock;
  /** Resolves true at the first estimate, false after `timeoutMs` without one (or when Redis refuses TIME). */
  ready(timeoutMs: number): Promise<boolean>;
  close(): void;
}

export const CLOCK_SYNC_DEFAULTS = { intervalMs: 5000, samples: 5, retryMs: 500 } as const;

/** 2017 and about 5138: a TIME reply outside these is not a clock. */
const EARLIEST_TIME_MS = 1.5e12;
const LATEST_TIME_MS = 1e14;

const ms = (v: number) => Math.round(v * 10) / 10 || 0;

export function createClockSync(options: ClockSyncOptions): ClockSync {
  const { local, reference, nodeId, logger } = options;
  const intervalMs = options.intervalMs ?? CLOCK_SYNC_DEFAULTS.intervalMs;
  const estimator = createClockEstimator({ now: () => local.now() });
  let timer: unknown;
  let closed = false;
  let started = false;
  let running: Promise<NodeClock> | undefined;
  let said: ClockState | 'none' = 'none';
  let failing = false;
  /** The last burst saw outliers without a jump: maybe a jump starting, so the next comes soon. */
  let followSoon = false;
  /** Redis's clock went back further than MAX_STEP_BACK_MS: not followed while it stays there. */
  let refusing = false;
  let settle: ((ok: boolean) => void) | undefined;
  const settled = new Promise<boolean>((resolve) => (settle = resolve));

  const status = (): NodeClock => {
    const e = estimator.estimate();
    const correctionMs = reference.correctionMs;
    return {
      offsetMs: e ? ms(e.offsetMs) : null,
      errorMs: e ? ms(e.errorMs) : null,
      correctionMs: ms(correctionMs),
      state: judgeClock(e, correctionMs),
    };
  };

  /** One line when the state changes, saying what it means for the screens and what to do. */
  const tell = (now: NodeClock) => {
    if (now.state === said) return;
    const off = Math.round(now.offsetMs ?? 0);
    const facts = { nodeId, clockOffsetMs: now.offsetMs, clockErrorMs: now.errorMs, clockCorrectionMs: now.correctionMs };
    if (now.state === 'far')
      logger?.warn(
        facts,
        `This node's clock is ${Math.abs(off)} ms ${off < 0 ? 'ahead of' : 'behind'} Redis's: Easel corrects the times it gives displays, so screens stay in step, but run NTP (chrony) on every node and on the Redis host`,
      );
    else if (now.state === 'unsynced' && !refusing)
      logger?.warn(
        facts,
        `This node cannot tell the cluster's time to within ${MAX_CLOCK_OFFSET_MS} ms (estimate ±${Math.round(now.errorMs ?? 0)} ms): its screens may change out of step with other nodes'; keep Redis on a short, quiet network path`,
      );
    else if (said !== 'none') logger?.info(facts, "Node clock in step with Redis's");
    said = now.state;
  };

  const burst = async (): Promise<NodeClock> => {
    let jumped = false;
    let odd = false;
    for (let i = 0; i < (options.samples ?? CLOCK_SYNC_DEFAULTS.samples); i++) {
      const sentAt = local.now();
      const [seconds, micros] = await options.time();
      const serverTime = Number(seconds) * 1000 + Number(micros) / 1000;
      // Not a time Redis could be at (a reply that is not TIME's): no sample.
      if (!(serverTime > EARLIEST_TIME_MS && serverTime < LATEST_TIME_MS)) {
        odd = true;
        continue;
      }
      const verdict = estimator.add({ sentAt, receivedAt: local.now(), serverTime });
      if (verdict === 'jump') jumped = true;
      if (verdict === 'outlier' || verdict === 'rejected') odd = true;
    }
    const e = estimator.estimate();
    if (e) {
      const back = reference.correctionMs - e.offsetMs;
      if (reference.targetMs !== undefined && back > MAX_STEP_BACK_MS && (jumped || refusing)) {
        if (!refusing)
          logger?.error(
            { nodeId, clockOffsetMs: ms(e.offsetMs), clockCorrectionMs: ms(reference.correctionMs) },
            `Redis's clock went back ${Math.round(back)} ms (its host's clock was set back, or Redis moved to a host whose clock is behind): this node keeps its time, so its screens stay in step with the nodes running now but not with nodes started from now on; fix the Redis host's clock (NTP), then restart the nodes one at a time`,
          );
        refusing = true;
      } else {
        refusing = false;
        reference.steer(e.offsetMs, jumped);
        if (jumped)
          logger?.info({ nodeId, clockOffsetMs: ms(e.offsetMs) }, "Node clock correction stepped: the node's or Redis's clock jumped");
      }
      settle?.(true);
    }
    followSoon = odd && !jumped;
    const now = status();
    tell(now);
    return now;
  };

  const measure = () => {
    running ??= burst().finally(() => {
      running = undefined;
    });
    return running;
  };

  const loop = () => {
    timer = undefined;
    if (closed) return;
    measure().then(
      (now) => {
        failing = false;
        const soon = followSoon || now.offsetMs === null;
        if (!closed) timer = local.setTimeout(loop, soon ? CLOCK_SYNC_DEFAULTS.retryMs : intervalMs);
      },
      (err: unknown) => {
        // Redis answered but will not give TIME (a renamed command): no estimate will come, say so and go on uncorrected.
        if (err instanceof Error && err.name === 'ReplyError') {
          if (!failing)
            logger?.error(
              { nodeId, err: err.message },
              'Redis refuses TIME: this node cannot correct its clock; screens on different nodes may change out of step',
            );
          settle?.(false);
        } else if (!failing) logger?.debug({ nodeId, err: String(err) }, 'Clock sync waits for Redis');
        failing = true;
        // Until the first estimate, try often (placement waits for it); after, the correction holds meanwhile.
        if (!closed) timer = local.setTimeout(loop, estimator.estimate() ? intervalMs : CLOCK_SYNC_DEFAULTS.retryMs);
      },
    );
  };

  return {
    start() {
      if (started || closed) return;
      started = true;
      loop();
    },
    measure,
    status,
    ready(timeoutMs) {
      let wait: unknown;
      const timeout = new Promise<boolean>((resolve) => (wait = local.setTimeout(() => resolve(false), timeoutMs)));
      return Promise.race([settled, timeout]).finally(() => local.clearTimeout(wait));
    },
    close() {
      closed = true;
      if (timer !== undefined) local.clearTimeout(timer);
      timer = undefined;
      settle?.(false);
    },
  };
}
