import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { Renderer } from '../stream/renderer.js';
import { renditionKey } from '../stream/rendition.js';
import type { Channel, Display } from './channel.js';
import type { Frame } from './frame.js';

/**
 * Renditions nobody wanted when a frame was rendered (a display joined, or its screen changed,
 * since): made on demand, once per frame and rendition, and delivered to the displays that want
 * it if the frame is still the latest by then.
 */
export function createLateRenditions(options: { renderer: Renderer; channel: Channel; clock: Clock; logger: Logger }) {
  const { renderer, channel, clock, logger: log } = options;
  /** In flight, by frame seq and rendition key. */
  const pending = new Map<string, Promise<void>>();

  function request(frame: Frame, display: Display): void {
    const id = `${frame.seq}|${display.key}`;
    if (pending.has(id)) return;
    const spec = display.spec;
    const job = renderer
      .render(frame.image, [spec])
      .then((out) => {
        for (const [key, encoded] of out) frame.renditions.set(key, encoded);
        if (channel.latest !== frame) return;
        for (const d of channel.displays) if (d.key === renditionKey(spec)) channel.deliver(d, frame, clock.now());
      })
      .catch((err: unknown) => log.warn({ err }, 'Could not make a rendition for a display'))
      .finally(() => pending.delete(id));
    pending.set(id, job);
  }

  return {
    request,

    /** Gives a display the latest frame now, or as soon as its rendition is made. */
    offerLatest(display: Display): void {
      const latest = channel.latest;
      if (latest && channel.deliver(display, latest, clock.now()) === 'missing') request(latest, display);
    },

    get inFlight(): number {
      return pending.size;
    },

    /** Resolves when every rendition in flight has settled. */
    settled(): Promise<unknown> {
      return Promise.allSettled([...pending.values()]);
    },
  };
}

export type LateRenditions = ReturnType<typeof createLateRenditions>;
