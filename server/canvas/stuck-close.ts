import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { Channel, Display } from './channel.js';

export const TOO_SLOW_CODE = 1008;
export const TOO_SLOW_REASON = 'Display too slow: it took no frame for too long';

/**
 * Closes displays that stopped taking frames. A close frame queued behind megabytes the display
 * never reads helps nobody and keeps the descriptor and uWS's buffer for uWS's end() timeout, so
 * a display with data still queued gets `graceMs` to drain (then the 1008 goes out cleanly) and
 * is shut hard otherwise. The kernel may still hold what it had already accepted until its own
 * orphan timeout: uWS.js offers no reset (SO_LINGER 0).
 */
export function createStuckCloser(options: { clock: Clock; logger: Logger; graceMs: () => number }) {
  const { clock, logger: log } = options;
  const waiting = new Map<Display, unknown>();

  const end = (display: Display) => display.socket.end(TOO_SLOW_CODE, TOO_SLOW_REASON);

  return {
    /** The display has left its channel already; its socket is closed now or after the grace. */
    close(display: Display): void {
      if (waiting.has(display)) return;
      if (display.socket.getBufferedAmount() === 0) return end(display);
      const timer = clock.setTimeout(() => {
        waiting.delete(display);
        log.info(
          { display: display.id, address: display.remoteAddress, buffered: display.socket.getBufferedAmount() },
          'Stuck display did not drain: shutting its socket hard',
        );
        display.socket.close();
      }, options.graceMs());
      waiting.set(display, timer);
    },

    /** Its send buffer emptied: true when it was waiting to be closed (and now is, with 1008). */
    drained(display: Display): boolean {
      const timer = waiting.get(display);
      if (timer === undefined) return false;
      if (display.socket.getBufferedAmount() > 0) return true;
      clock.clearTimeout(timer);
      waiting.delete(display);
      end(display);
      return true;
    },

    /** Its socket closed some other way (the display left, the server shuts down). */
    forget(display: Display): void {
      const timer = waiting.get(display);
      if (timer === undefined) return;
      clock.clearTimeout(timer);
      waiting.delete(display);
    },

    /**
     * Takes the displays `channel` finds stuck (none of the last `slots` frames, or blocked longer
     * than `timeoutMs`) out of it and closes them; `onClosed` hears of each once it is out.
     */
    sweep(channel: Channel, now: number, limits: { timeoutMs: number; slots: number }, onClosed: (display: Display) => void): void {
      for (const display of channel.stalled(now, limits.timeoutMs, limits.slots)) {
        const blockedMs = now - (display.blockedSince ?? now);
        log.warn(
          {
            display: display.id,
            address: display.remoteAddress,
            code: 'EASEL_ERR_DISPLAY_TOO_SLOW',
            skipped: display.skipped,
            skippedInARow: display.skippedInARow,
            blockedMs,
          },
          `Closing a display that took none of its last ${display.skippedInARow} frames (blocked ${(blockedMs / 1000).toFixed(1)} s)`,
        );
        channel.remove(display);
        this.close(display);
        onClosed(display);
      }
    },

    get waiting(): number {
      return waiting.size;
    },
  };
}
