/**
 * Notices a generate call that is up but brings nothing: once the buffer is dry and no usable
 * image came for the limit, it calls `onStall` (once). The call deadline is far longer (a whole
 * batch on a slow GPU), and waiting for it would freeze the screen for a minute.
 */
import type { Clock } from './clock.js';

export interface StallWatchOptions {
  clock: Clock;
  /** How often to look: one frame slot, so a hold never outlasts the limit by more. */
  slotMs: number;
  /** Read at each look: the limit may shrink while the call runs (an image came, stalls reset). */
  limitMs: () => number;
  /** True while nothing is buffered: a call may take as long as it likes while frames remain. */
  isDry: () => boolean;
  onStall: (limitMs: number) => void;
}

export interface StallWatch {
  /** A usable image came: the limit counts from now. */
  progress(): void;
  stop(): void;
}

export function watchForStall(options: StallWatchOptions): StallWatch {
  const { clock, slotMs, limitMs, isDry, onStall } = options;
  let progressAt = clock.now();
  let timer: unknown = null;
  const arm = (ms: number) => {
    timer = clock.setTimeout(inspect, Math.max(ms, 1));
  };
  function inspect() {
    timer = null;
    const limit = limitMs();
    const now = clock.now();
    if (now < progressAt + limit) arm(Math.min(progressAt + limit - now, slotMs));
    else if (!isDry()) arm(slotMs);
    else onStall(limit);
  }
  arm(Math.min(limitMs(), slotMs));
  return {
    progress() {
      progressAt = clock.now();
    },
    stop() {
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
    },
  };
}
