import type { Frame } from './frame.js';

/**
 * Frames rendered ahead of their slot, at most `capacity` of them, so pacing never waits on an
 * encode. Dropping them (a new prompt, a new source) aborts `batch`: a render begun before the
 * drop carries that signal, and its frame, stale by then, is refused when it is done.
 */
export function createRenderAhead(capacity: number) {
  const frames: Frame[] = [];
  let batch = new AbortController();
  const waiting = new Set<() => void>();

  const wake = () => {
    for (const resolve of [...waiting]) resolve();
  };

  return {
    get length(): number {
      return frames.length;
    },

    /** Aborted when the queued frames are dropped; take it before rendering a frame for the queue. */
    get batch(): AbortSignal {
      return batch.signal;
    },

    /** Resolves once a frame fits, or at once when `signal` aborts. */
    async room(signal: AbortSignal): Promise<void> {
      while (frames.length >= capacity && !signal.aborted) {
        await new Promise<void>((resolve) => {
          const done = () => {
            waiting.delete(done);
            signal.removeEventListener('abort', done);
            resolve();
          };
          waiting.add(done);
          signal.addEventListener('abort', done, { once: true });
        });
      }
    },

    /** Queues a frame rendered under `from`; false (and nothing queued) when that batch was dropped. */
    push(frame: Frame, from: AbortSignal): boolean {
      if (from.aborted) return false;
      frames.push(frame);
      return true;
    },

    /** Puts a frame ahead of everything queued (an operator's still), whatever the capacity. */
    pushFront(frame: Frame): void {
      frames.unshift(frame);
    },

    /** The next frame to show; taking one makes room for the producer. */
    take(): Frame | undefined {
      const frame = frames.shift();
      if (frame) wake();
      return frame;
    },

    /** Drops every queued frame and the renders still under way for them. */
    drop(reason: unknown): void {
      batch.abort(reason);
      batch = new AbortController();
      frames.length = 0;
      wake();
    },
  };
}

export type RenderAhead = ReturnType<typeof createRenderAhead>;
