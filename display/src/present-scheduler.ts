/**
 * Decides on which animation frame each decoded frame goes on screen, so that every display of
 * a canvas changes on the same refresh: a frame waits for the tick nearest its due time (its
 * `presentAt` on the display's monotonic clock). Pure and DOM-free: the presenter feeds it
 * decoded frames and `requestAnimationFrame` timestamps, and it calls back with what to show
 * and what to let go of.
 */

export interface PresentSchedulerOptions<T> {
  /** Put `item` on screen now. `at` is the tick (or the moment) it is shown, on the due times' clock. */
  show(item: T, at: number, late: boolean): void;
  /** `item` will never be shown (a newer one took its place): free it. */
  drop(item: T): void;
  /** Most frames waiting at once; over it the oldest is dropped. Read at each arrival. */
  maxWaiting?: () => number;
  /** A due time further ahead than this is a clock problem, not a plan: the frame is shown at once. */
  maxLeadMs?: number;
}

export interface PresentStats {
  shown: number;
  /** Shown after their instant: they arrived (or were decoded) too late, or a tick was missed. */
  late: number;
  /** Never shown: a newer frame was due at the same tick, or too many waited. */
  dropped: number;
  /** Shown at once because their due time was absurdly far ahead (the clock estimate is wrong). */
  early: number;
}

export interface PresentScheduler<T> {
  readonly stats: PresentStats;
  /** Frames waiting for their tick. */
  readonly waiting: number;
  /** The display's refresh interval, from the ticks seen (60 Hz until there are some). */
  readonly refreshMs: number;
  /** A frame is decoded. `dueAt` undefined (sync off, no clock estimate yet): shown at once. */
  add(item: T, dueAt: number | undefined, now: number): void;
  /** An animation frame (`requestAnimationFrame`'s timestamp): shows what is due at it. */
  tick(timestamp: number): void;
  /** No ticks are coming (hidden page, throttled timer): shows what is due by `now`, without measuring the refresh from it. */
  catchUp(now: number): void;
  /** Shows the newest waiting frame now and drops the rest (the page went hidden). */
  flush(now: number): void;
  /** Drops every waiting frame. */
  clear(): void;
}

export const DEFAULT_REFRESH_MS = 1000 / 60;
export const DEFAULT_MAX_WAITING = 4;
/** The server's lead (`presentAt` − slot time, `sync.leadMs`) when its hello does not say. */
export const DEFAULT_LEAD_MS = 300;
/** Decoded frames waiting for their time, at most, whatever the lead: a 4K bitmap is 33 MB. */
export const MAX_WAITING_FRAMES = 16;
export const MAX_LEAD_MS = 10_000;
/** Tick intervals kept to estimate the refresh: a median over them ignores a stutter. */
const REFRESH_SAMPLES = 15;
/** A longer gap between ticks is the loop pausing (nothing waited, a hidden page), not the refresh. */
const MAX_TICK_GAP_MS = 100;
/**
 * At a tick a frame is late once it is more than this many refreshes past due: on-time frames
 * are at most half a refresh past, and rAF timestamps wobble by a fraction of one.
 */
const LATE_AT_TICK = 0.75;

interface Waiting<T> {
  item: T;
  dueAt: number;
}

/**
 * @example
 * const scheduler = createPresentScheduler<Frame>({ show: (f, at, late) => draw(f), drop: (f) => f.bitmap.close() });
 * scheduler.add(frame, clock.toLocal(header.presentAt), performance.now());
 * requestAnimationFrame(function loop(t) { scheduler.tick(t); if (scheduler.waiting) requestAnimationFrame(loop); });
 */
export function createPresentScheduler<T>(options: PresentSchedulerOptions<T>): PresentScheduler<T> {
  const maxLeadMs = options.maxLeadMs ?? MAX_LEAD_MS;
  const stats: PresentStats = { shown: 0, late: 0, dropped: 0, early: 0 };
  let queue: Waiting<T>[] = [];
  const deltas: number[] = [];
  let lastTick: number | undefined;
  let refreshMs = DEFAULT_REFRESH_MS;

  function show(item: T, at: number, late: boolean): void {
    stats.shown++;
    if (late) stats.late++;
    options.show(item, at, late);
  }

  function drop(entries: Waiting<T>[]): void {
    for (const entry of entries) {
      stats.dropped++;
      options.drop(entry.item);
    }
  }

  /** Shows the newest frame due by the tick at `t` (the ones before it are dropped); late when past due by more than `lateAfter`. */
  function present(t: number, lateAfter: number): void {
    let last = -1;
    for (let i = 0; i < queue.length; i++) if (queue[i]!.dueAt <= t + refreshMs / 2) last = i;
    if (last < 0) return;
    const due = queue[last]!;
    drop(queue.slice(0, last));
    queue = queue.slice(last + 1);
    show(due.item, t, t - due.dueAt > lateAfter);
  }

  function measure(t: number): void {
    if (lastTick !== undefined) {
      const delta = t - lastTick;
      if (delta > 0 && delta <= MAX_TICK_GAP_MS) {
        deltas.push(delta);
        if (deltas.length > REFRESH_SAMPLES) deltas.shift();
        const sorted = [...deltas].sort((a, b) => a - b);
        refreshMs = sorted[sorted.length >> 1]!;
      }
    }
    lastTick = t;
  }

  return {
    stats,
    get waiting() {
      return queue.length;
    },
    get refreshMs() {
      return refreshMs;
    },
    add(item, dueAt, now) {
      const immediate = (late: boolean) => {
        // Frames keep their order: whatever waits was meant to go before this one, so it never will.
        drop(queue);
        queue = [];
        show(item, now, late);
      };
      if (dueAt === undefined || !Number.isFinite(dueAt)) return immediate(false);
      if (now - dueAt > refreshMs / 2) return immediate(true);
      // Just past due: the tick it belonged to has gone by, but it is within half a refresh of its instant.
      if (dueAt <= now) return immediate(false);
      if (dueAt - now > maxLeadMs) {
        stats.early++;
        return immediate(false);
      }
      queue.push({ item, dueAt });
      const cap = Math.max(1, options.maxWaiting?.() ?? DEFAULT_MAX_WAITING);
      if (queue.length > cap) drop(queue.splice(0, queue.length - cap));
    },
    tick(timestamp) {
      measure(timestamp);
      present(timestamp, refreshMs * LATE_AT_TICK);
    },
    catchUp(now) {
      present(now, refreshMs * LATE_AT_TICK);
    },
    flush(now) {
      const newest = queue.at(-1);
      if (!newest) return;
      drop(queue.slice(0, -1));
      queue = [];
      show(newest.item, now, false);
    },
    clear() {
      drop(queue);
      queue = [];
    },
  };
}

/**
 * How many decoded frames may wait: every frame in flight during the lead at the canvas's rate,
 * and two more (one being decoded, one arriving early), within [DEFAULT_MAX_WAITING, MAX_WAITING_FRAMES].
 *
 * @example
 * waitingCap(4, 300) // 4: a 4 FPS canvas with the default lead has two frames in flight at most
 */
export function waitingCap(fps: number, leadMs: number): number {
  if (!(fps > 0) || !(leadMs >= 0)) return DEFAULT_MAX_WAITING;
  return Math.min(MAX_WAITING_FRAMES, Math.max(DEFAULT_MAX_WAITING, Math.ceil((leadMs * fps) / 1000) + 2));
}
