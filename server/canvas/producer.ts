import { EaselError, isEaselError } from '../errors.js';
import { delay } from '../inference/backoff.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { Renderer } from '../stream/renderer.js';
import type { RenditionSpec } from '../stream/rendition.js';
import type { Source, SourceImage } from '../stream/source.js';
import { createFrame } from './frame.js';
import type { RenderAhead } from './render-ahead.js';

export interface ProducerOptions {
  renderer: Renderer;
  queue: RenderAhead;
  /** The renditions to make of each frame: the canvas's own and those its displays want now. */
  specs: () => RenditionSpec[];
  clock: Clock;
  logger: Logger;
  /** Told of each image the renderer refused (the source is told too, so it is not offered again). */
  onRejected: () => void;
}

/** How long to wait after a source's `failures`-th failure in a row (from 0): doubling, at most 30 s. */
export const sourceBackoffMs = (failures: number) => Math.min(30_000, 500 * 2 ** failures);

/**
 * Keeps the render-ahead queue full from one source at a time: source → renderer → queue.
 * Switching to another source stops the producer of the one before (its call to next() and its
 * back-off are aborted) and resolves once that producer has let go.
 */
export function createProducer(options: ProducerOptions) {
  const { renderer, queue, clock } = options;
  const log = options.logger;
  let run: { controller: AbortController; done: Promise<void> } | undefined;

  async function render(from: Source, image: SourceImage, signal: AbortSignal): Promise<void> {
    const batch = queue.batch;
    try {
      const renditions = await renderer.render(image, options.specs());
      if (!signal.aborted) queue.push(createFrame(image, renditions), batch);
    } catch (err) {
      options.onRejected();
      from.reject(
        image,
        isEaselError(err) ? err : new EaselError('EASEL_ERR_IMAGE_UNREADABLE', String(err), { hint: 'Re-export the image' }),
      );
    }
  }

  async function produce(from: Source, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      await queue.room(signal);
      if (signal.aborted) return;
      let image: SourceImage;
      try {
        image = await from.next(signal);
      } catch (err) {
        if (signal.aborted) return;
        // A source should wait rather than throw; if one does, back off instead of spinning.
        log.error({ err }, 'Source failed; trying again');
        await delay(sourceBackoffMs(failures++), { signal, clock }).catch(() => undefined);
        continue;
      }
      failures = 0;
      await render(from, image, signal);
    }
  }

  const stop = (reason: unknown): Promise<void> => {
    const last = run;
    run = undefined;
    last?.controller.abort(reason);
    return last?.done ?? Promise.resolve();
  };

  return {
    /** True while a source is being produced from. */
    get running(): boolean {
      return run !== undefined;
    },

    /** Produces from `source` from now on; resolves when the producer of the previous source has stopped. */
    switchTo(source: Source, reason: unknown): Promise<void> {
      const previous = stop(reason);
      const controller = new AbortController();
      run = { controller, done: produce(source, controller.signal) };
      return previous;
    },

    /** Stops producing; resolves when the producer has let go of its source. */
    stop,
  };
}

export type Producer = ReturnType<typeof createProducer>;
