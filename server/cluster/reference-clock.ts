import type { Clock } from '../stream/clock.js';

/**
 * The cluster's time base. In cluster mode every time a node gives out (pong and hello
 * `serverTime`, `presentAt`, frame timestamps, relay messages) is on one reference clock, Redis's
 * `TIME`: this node's own clock plus a correction that clock-sync.ts estimates. Screens on
 * different nodes then present a frame at the same instant even when the nodes' clocks differ.
 *
 * The correction moves without jolting the screens: the first estimate and a jump are applied at
 * once (a step), a small change is slewed at most `slewPpm` (a display re-syncs every 10 s and
 * follows a slew that slow within its own error). The clock never runs backwards: after a step
 * back it holds still until the local clock has caught up, so `presentAt` never goes back either
 * (clock-sync.ts refuses a step back longer than a moment). The first estimate is taken whole,
 * back or forth: the node waits for it before it listens or produces, so nothing it gave out
 * before could be contradicted. Timers are the local clock's: a delay is a duration, and
 * durations do not need correcting.
 */

export interface ReferenceClockOptions {
  /** This node's own clock (monotonic since start, see stream/clock.ts). */
  local: Clock;
  /** Fastest slew of the correction, parts per million of elapsed time (200 = 0.2 ms per second). */
  slewPpm?: number;
  /** A change larger than this (ms) is stepped rather than slewed: slewing it would take minutes out of step. */
  stepMs?: number;
}

export interface ReferenceClock extends Clock {
  /** Local time plus the correction; never less than a time it gave before. */
  now(): number;
  /**
   * Where the correction should go (the estimated reference minus local, ms). Applied at once
   * when `step` (a jump), on the first call, and when it is further than `stepMs` from the
   * correction; else slewed toward.
   */
  steer(offsetMs: number, step?: boolean): void;
  /** Added to the local clock now, ms. */
  readonly correctionMs: number;
  /** The last offset steered to; undefined before the first. */
  readonly targetMs: number | undefined;
  /** Steps taken (the first estimate counts). */
  readonly steps: number;
}

export const REFERENCE_CLOCK_DEFAULTS = { slewPpm: 200, stepMs: 10 } as const;

export function createReferenceClock(options: ReferenceClockOptions): ReferenceClock {
  const { local } = options;
  const slew = (options.slewPpm ?? REFERENCE_CLOCK_DEFAULTS.slewPpm) / 1e6;
  const stepMs = options.stepMs ?? REFERENCE_CLOCK_DEFAULTS.stepMs;
  let applied = 0;
  let target: number | undefined;
  let lastAt = local.now();
  let lastOut = Number.NEGATIVE_INFINITY;
  let steps = 0;

  /** Moves the correction toward its target by what the local time since the last call allows. */
  const advance = (at: number) => {
    const elapsed = at - lastAt;
    if (elapsed <= 0) return;
    lastAt = at;
    if (target === undefined || applied === target) return;
    const room = elapsed * slew;
    const gap = target - applied;
    applied = Math.abs(gap) <= room ? target : applied + Math.sign(gap) * room;
  };

  return {
    now() {
      const at = local.now();
      advance(at);
      lastOut = Math.max(lastOut, at + applied);
      return lastOut;
    },
    steer(offsetMs, step = false) {
      if (!Number.isFinite(offsetMs)) return;
      advance(local.now());
      const first = target === undefined;
      target = offsetMs;
      if (first || step || Math.abs(offsetMs - applied) > stepMs) {
        applied = offsetMs;
        steps++;
      }
      if (first) lastOut = Number.NEGATIVE_INFINITY;
    },
    get correctionMs() {
      advance(local.now());
      return applied;
    },
    get targetMs() {
      return target;
    },
    get steps() {
      return steps;
    },
    setTimeout: (fn, ms) => local.setTimeout(fn, ms),
    clearTimeout: (handle) => local.clearTimeout(handle),
  };
}
