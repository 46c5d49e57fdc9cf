import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import type { Source, SourceImage, SourceStatus } from './source.js';

export interface FallbackSourceOptions<P extends Source> {
  /** The source the canvas is for (inference). */
  primary: P;
  /** What to show while the primary cannot make anything (a folder). */
  fallback: Source;
  clock: Clock;
  logger: Logger;
  /** How often a waiting call looks at the primary's state. */
  pollMs?: number;
}

const SWITCH = Symbol('switch source');

/**
 * Shows the primary source's images while it works, and the fallback's while it is down and has
 * nothing buffered, so a canvas whose GPU service dies keeps changing instead of going dark, and
 * goes back to generated images as soon as the service delivers again.
 */
export function createFallbackSource<P extends Source>(options: FallbackSourceOptions<P>): Source & { readonly primary: P } {
  const { primary, fallback, clock, logger: log } = options;
  const pollMs = options.pollMs ?? 50;
  const fromFallback = new Set<string>();
  let active = false;

  const primaryHasImages = () => (primary.available?.() ?? 0) > 0;
  const primaryDown = () => {
    const { state } = primary.status();
    return (state === 'degraded' || state === 'failed') && !primaryHasImages();
  };

  const setActive = (next: boolean) => {
    if (next === active) return;
    active = next;
    if (next) log.warn({ reason: primary.status().reason }, 'Showing the fallback folder until generation works again');
    else log.info('Generated images are back; leaving the fallback folder');
  };

  /** Waits on `source`, giving up (with SWITCH) once `leave()` turns true. */
  async function take(source: Source, signal: AbortSignal, leave: () => boolean): Promise<SourceImage | typeof SWITCH> {
    const child = new AbortController();
    const forward = () => child.abort(signal.reason);
    signal.addEventListener('abort', forward, { once: true });
    let timer: unknown = null;
    const watch = () => {
      timer = clock.setTimeout(() => (leave() ? child.abort(SWITCH) : watch()), pollMs);
    };
    watch();
    try {
      return await source.next(child.signal);
    } catch (err) {
      if (child.signal.reason === SWITCH && !signal.aborted) return SWITCH;
      throw err;
    } finally {
      if (timer !== null) clock.clearTimeout(timer);
      signal.removeEventListener('abort', forward);
    }
  }

  return {
    kind: primary.kind,
    primary,

    async next(signal) {
      for (;;) {
        signal.throwIfAborted();
        if (!primaryDown()) {
          const image = await take(primary, signal, primaryDown);
          if (image !== SWITCH) {
            setActive(false);
            return image;
          }
        }
        setActive(true);
        const image = await take(fallback, signal, () => !primaryDown());
        if (image !== SWITCH) {
          fromFallback.add(image.id);
          if (fromFallback.size > 64) fromFallback.delete(fromFallback.values().next().value!);
          return image;
        }
      }
    },

    reject(image, err) {
      (fromFallback.has(image.id) ? fallback : primary).reject(image, err);
    },

    available() {
      return primary.available?.() ?? 0;
    },

    status(): SourceStatus {
      const s = primary.status();
      return { ...s, details: { ...s.details, fallback: { active, ...fallback.status() } } };
    },

    async close() {
      await Promise.allSettled([primary.close(), fallback.close()]);
    },
  };
}
