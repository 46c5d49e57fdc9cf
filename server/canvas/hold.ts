import type { Clock } from '../stream/clock.js';
import type { Frame } from './frame.js';

/**
 * An operator's still holds the screen: while it holds, the slots leave the queued frames where
 * they are. The hold is counted from when the still is shown, not from when it was asked for,
 * so it lasts on screen as long as asked.
 */
export function createHold(clock: Clock) {
  /** Epoch ms; Infinity: until released (the next command). */
  let until = 0;
  /** Stills queued but not shown yet, with the hold each asks for. */
  const owed = new Map<Frame, number>();

  return {
    /** Ends any hold now; `frame`, once shown, holds the screen for `holdMs` (Infinity: until released). */
    after(frame: Frame, holdMs: number): void {
      until = 0;
      owed.set(frame, holdMs);
    },

    /** A frame went on screen: starts the hold it is owed, if any. */
    shown(frame: Frame): void {
      const holdMs = owed.get(frame);
      if (holdMs === undefined) return;
      owed.delete(frame);
      until = holdMs === Infinity ? Infinity : clock.now() + holdMs;
    },

    /** Ends the hold (a command, a step, a resume). */
    release(): void {
      until = 0;
    },

    /** The queued stills were dropped: they will never be shown, so they are owed nothing. */
    forgetOwed(): void {
      owed.clear();
    },

    /** True while the screen is held at `now`. */
    holds(now: number): boolean {
      return now < until;
    },

    /** For the snapshot: until when (null: until the next command), or null when nothing holds. */
    describe(now: number): { until: string | null } | null {
      if (!(until > now)) return null;
      return { until: until === Infinity ? null : new Date(until).toISOString() };
    },
  };
}

export type Hold = ReturnType<typeof createHold>;
