import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { Renderer } from '../stream/renderer.js';
import { chooseRendition, renditionKey, type CanvasBox, type DisplayWants } from '../stream/rendition.js';
import type { Channel, Display } from './channel.js';
import type { Frame } from './frame.js';
import { createLateRenditions } from './late-renditions.js';
import { createStuckCloser } from './stuck-close.js';

export interface CanvasDisplaysOptions {
  box: CanvasBox;
  channel: Channel;
  renderer: Renderer;
  clock: Clock;
  logger: Logger;
  /** A display blocked longer than `timeoutMs`, or that took none of `slots` frames in a row, is closed. */
  stall: { timeoutMs: number; slots: number };
  /** How long a stuck display with data queued gets to drain before its socket is shut hard. */
  graceMs: () => number;
  /** Told how many displays watch after each one comes or goes. */
  onCount?: ((count: number) => void) | undefined;
}

/**
 * The displays' side of a canvas: who watches, each getting the newest frame it lacks (in a
 * rendition made late where none fits yet), and the stuck ones taken out.
 */
export function createCanvasDisplays(options: CanvasDisplaysOptions) {
  const { channel, clock, box } = options;
  const late = createLateRenditions(options);
  const stuck = createStuckCloser(options);
  let stalledClosed = 0;
  const counted = () => options.onCount?.(channel.displays.size);

  return {
    /** Makes `frame` the latest and sends it to every display, making the renditions some lack. */
    publish(frame: Frame, now: number): void {
      for (const display of channel.publish(frame, now)) late.request(frame, display);
    },

    /** Closes the displays stuck at `now` (called each slot). */
    sweep(now: number): void {
      stuck.sweep(channel, now, options.stall, () => {
        stalledClosed++;
        counted();
      });
    },

    /** Adds a display and gives it the latest frame at once. */
    attach(display: Display): void {
      channel.add(display);
      late.offerLatest(display);
      counted();
    },

    detach(display: Display): void {
      if (!channel.displays.has(display)) return;
      channel.remove(display);
      stuck.forget(display);
      counted();
    },

    /** A display told us its screen changed: move it to the rendition that fits. */
    update(display: Display, wants: DisplayWants): void {
      const spec = chooseRendition(box, wants);
      const key = renditionKey(spec);
      if (key === display.key) return;
      channel.changeRendition(display, spec, key); // it then lacks the current frame in its new size
      late.offerLatest(display);
    },

    /** Its send buffer emptied: closes it if it was stuck, else sends it the newest frame it missed. */
    drained(display: Display): void {
      if (stuck.drained(display)) return;
      const latest = channel.latest;
      if (channel.drained(display, clock.now()) === 'missing' && latest) late.request(latest, display);
    },

    get stalledClosed(): number {
      return stalledClosed;
    },

    /** Resolves when the renditions in flight have settled. */
    settled: () => late.settled(),
  };
}
