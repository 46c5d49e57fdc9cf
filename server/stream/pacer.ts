import type { Clock } from './clock.js';

/**
 * The pacer decides when each frame slot falls. Slot k of a run falls at origin + k / fps,
 * computed from the origin every time, so rounding and timer lateness never accumulate.
 * When the process falls behind by whole slots (a blocked event loop, a suspended laptop),
 * the missed slots are skipped rather than fired in a burst: a wall shows the present.
 */
export type PacerState =
  | { kind: 'stopped' }
  | { kind: 'paused'; periodMs: number }
  | { kind: 'running'; origin: number; periodMs: number; slot: number };

export interface PacerPlan {
  state: PacerState;
  /** True when a slot is due now. */
  fire: boolean;
  /** Index of the slot that fires (when `fire`), counted from the run's origin. */
  slot: number;
  /** When that slot was due, epoch ms. */
  slotTime: number;
  /** Slots skipped because we were late by more than one period. */
  missed: number;
  /** How long to wait before asking again; Infinity when not running. */
  delayMs: number;
}

export const MIN_FPS = 0.1;
export const MAX_FPS = 30;

export function periodFor(fps: number): number {
  if (!(fps >= MIN_FPS && fps <= MAX_FPS)) {
    throw new RangeError(`Expected fps from ${MIN_FPS} to ${MAX_FPS} but received ${fps}`);
  }
  return 1000 / fps;
}

/** A run whose slot 0 falls at `now`. */
export function startRun(now: number, fps: number): PacerState {
  return { kind: 'running', origin: now, periodMs: periodFor(fps), slot: 0 };
}

/** Pure: given the state and the time, says whether a slot fires and when to look again. */
export function planNextFrame(state: PacerState, now: number): PacerPlan {
  if (state.kind !== 'running') {
    return { state, fire: false, slot: -1, slotTime: NaN, missed: 0, delayMs: Infinity };
  }
  const { origin, periodMs, slot } = state;
  const dueAt = origin + slot * periodMs;
  if (now < dueAt) {
    return { state, fire: false, slot, slotTime: dueAt, missed: 0, delayMs: dueAt - now };
  }
  const current = Math.max(slot, Math.floor((now - origin) / periodMs));
  const next = current + 1;
  return {
    state: { kind: 'running', origin, periodMs, slot: next },
    fire: true,
    slot: current,
    slotTime: origin + current * periodMs,
    missed: current - slot,
    delayMs: origin + next * periodMs - now,
  };
}

export interface PacerOptions {
  fps: number;
  clock: Clock;
  /** Called at each slot. Must not throw; it should return quickly (no awaiting renders). */
  onSlot: (slot: { index: number; time: number; missed: number }) => void;
}

export interface Pacer {
  readonly running: boolean;
  readonly fps: number;
  /** Starts the grid; its first slot falls `phaseMs` from now (canvases spread their slots apart). */
  start(phaseMs?: number): void;
  pause(): void;
  /** Starts a fresh run at now: a resumed canvas shows its next frame at once, then every period. */
  resume(): void;
  setFps(fps: number): void;
  stop(): void;
}

/** The timer shell around planNextFrame: one timer at a time, cleared on pause and stop. */
export function createPacer(options: PacerOptions): Pacer {
  const { clock, onSlot } = options;
  let fps = options.fps;
  periodFor(fps);
  let state: PacerState = { kind: 'stopped' };
  let timer: unknown = null;

  const clear = () => {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
  };

  const tick = () => {
    timer = null;
    const plan = planNextFrame(state, clock.now());
    state = plan.state;
    if (plan.fire) onSlot({ index: plan.slot, time: plan.slotTime, missed: plan.missed });
    // onSlot may have paused or stopped us.
    if (state.kind === 'running' && timer === null) timer = clock.setTimeout(tick, plan.delayMs);
  };

  const run = (phaseMs = 0) => {
    clear();
    state = startRun(clock.now() + phaseMs, fps);
    tick();
  };

  return {
    get running() {
      return state.kind === 'running';
    },
    get fps() {
      return fps;
    },
    start: (phaseMs = 0) => run(phaseMs),
    resume() {
      if (state.kind !== 'running') run();
    },
    pause() {
      clear();
      state = { kind: 'paused', periodMs: periodFor(fps) };
    },
    setFps(next) {
      periodFor(next);
      fps = next;
      if (state.kind === 'running') {
        // Keep the next slot where it is due, then continue at the new rate from there.
        const dueAt = state.origin + state.slot * state.periodMs;
        clear();
        state = { kind: 'running', origin: dueAt, periodMs: periodFor(fps), slot: 0 };
        timer = clock.setTimeout(tick, Math.max(0, dueAt - clock.now()));
      }
    },
    stop() {
      clear();
      state = { kind: 'stopped' };
    },
  };
}
