/**
 * Holds a playlist step until each of its canvases has shown `count` new frames, counting from
 * the moment that canvas's command went through. Canvases that have nothing to count (their
 * command failed, or the playlist let them go) are dropped; when no frame comes for `stallMs`
 * the hold gives up, so a canvas whose inference stopped never freezes the show.
 */
import type { Clock } from '../stream/clock.js';

/** Calls `listener` for each frame the canvas shows from now on; returns the unsubscribe. */
export type OnFrame = (slug: string, listener: () => void) => () => void;

export interface FrameHoldOptions {
  slugs: string[];
  count: number;
  onFrame: OnFrame;
  clock: Clock;
  stallMs: number;
  /** Called once: every canvas counted is done, or none showed a frame for stallMs. */
  onDone: (reason: 'frames' | 'stalled') => void;
}

export type FrameHold = ReturnType<typeof createFrameHold>;

export function createFrameHold(options: FrameHoldOptions) {
  const { count, clock } = options;
  const counts = new Map(options.slugs.map((slug) => [slug, 0]));
  const unsubscribes = new Map<string, () => void>();
  let stall: unknown = null;
  let over = false;

  const armStall = () => {
    if (stall !== null) clock.clearTimeout(stall);
    stall = clock.setTimeout(() => {
      stall = null;
      done('stalled');
    }, options.stallMs);
  };

  function done(reason: 'frames' | 'stalled'): void {
    if (over) return;
    cancel();
    options.onDone(reason);
  }

  /** Done when some canvas is still counted and each counted one has shown its frames. */
  const check = () => {
    if (counts.size > 0 && [...counts.values()].every((n) => n >= count)) done('frames');
  };

  function cancel(): void {
    over = true;
    if (stall !== null) clock.clearTimeout(stall);
    stall = null;
    for (const unsubscribe of unsubscribes.values()) unsubscribe();
    unsubscribes.clear();
  }

  armStall();

  return {
    /** The canvas's command went through: count its frames from now. */
    watch(slug: string): void {
      if (over || !counts.has(slug) || unsubscribes.has(slug)) return;
      unsubscribes.set(
        slug,
        options.onFrame(slug, () => {
          if (over) return;
          counts.set(slug, (counts.get(slug) ?? 0) + 1);
          armStall();
          check();
        }),
      );
    },

    /** Nothing to count on this canvas any more. */
    drop(slug: string): void {
      if (over || !counts.delete(slug)) return;
      unsubscribes.get(slug)?.();
      unsubscribes.delete(slug);
      check();
    },

    /** New frames shown so far on the slowest canvas still counted. */
    shown(): number {
      return counts.size === 0 ? 0 : Math.min(count, ...counts.values());
    },

    counts(): Record<string, number> {
      return Object.fromEntries(counts);
    },

    /** Stops counting and the stall timer; onDone is not called. */
    cancel,
  };
}
