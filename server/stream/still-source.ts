import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isEaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from './clock.js';
import { checkBytes } from './image-limits.js';
import type { Source, SourceImage, SourceStatus } from './source.js';
import { isTransientFsError, TRANSIENT_RETRY_MS } from './transient-error.js';

export interface StillSourceOptions {
  /** An image file, or bytes an operator uploaded. */
  image: { path: string } | { data: Buffer; name: string };
  /** A file larger than this is refused from its size, never read (render.maxFileBytes). */
  maxFileBytes: number;
  logger: Logger;
  clock?: Clock;
}

/**
 * One image, shown once and then held: the canvas has nothing new, so it keeps the image on
 * screen without resending it, until the source is replaced.
 */
export function createStillSource(options: StillSourceOptions): Source {
  const { logger: log } = options;
  const name = 'path' in options.image ? path.resolve(options.image.path) : options.image.name;
  let given = false;
  let status: SourceStatus = { state: 'ok', details: { still: name } };
  const closed = new AbortController();
  const clock = options.clock ?? systemClock;

  /** Out of descriptors is not a bad file: wait and read again, saying so once. */
  async function loadPatiently(signal: AbortSignal): Promise<SourceImage> {
    for (let told = false; ; told = true) {
      try {
        return await load();
      } catch (err) {
        if (!isTransientFsError(err)) throw err;
        if (!told)
          log.warn(
            { code: (err as NodeJS.ErrnoException).code },
            `Cannot read still image "${name}" for now (${(err as Error).message}); trying again shortly`,
          );
        await new Promise<void>((resolve, reject) => {
          const any = AbortSignal.any([signal, closed.signal]);
          if (any.aborted) return reject(any.reason);
          const timer = clock.setTimeout(resolve, TRANSIENT_RETRY_MS);
          any.addEventListener(
            'abort',
            () => {
              clock.clearTimeout(timer);
              reject(any.reason);
            },
            { once: true },
          );
        });
      }
    }
  }

  async function load(): Promise<SourceImage> {
    // The file may have grown since the command checked it: stat again before reading it whole.
    if (!('data' in options.image))
      checkBytes((await stat(name)).size, { maxFileBytes: options.maxFileBytes, limitInputPixels: Infinity }, `Still image "${name}"`);
    const data = 'data' in options.image ? options.image.data : await readFile(name);
    const id = `s-${createHash('sha1').update(data).digest('base64url').slice(0, 12)}`;
    return { id, data, source: 'still', createdAt: clock.now(), cacheKey: id, ...('path' in options.image && { file: name }) };
  }

  const forever = (signal: AbortSignal) =>
    new Promise<never>((_, reject) => {
      const any = AbortSignal.any([signal, closed.signal]);
      if (any.aborted) reject(any.reason);
      any.addEventListener('abort', () => reject(any.reason), { once: true });
    });

  return {
    kind: 'still',
    async next(signal) {
      if (given) return forever(signal);
      given = true;
      try {
        return await loadPatiently(signal);
      } catch (err) {
        if (signal.aborted || closed.signal.aborted) throw err;
        status = isEaselError(err)
          ? { state: 'failed', code: err.code, reason: err.message, hint: err.hint }
          : {
              state: 'failed',
              code: 'EASEL_ERR_IMAGE_UNREADABLE',
              reason: `Still image "${name}" cannot be read: ${(err as Error).message}`,
              hint: 'Check the path and its permissions, then set the source again',
            };
        log.warn({ code: status.code, hint: status.hint }, status.reason);
        return forever(signal);
      }
    },
    reject(_image, err) {
      status = {
        state: 'failed',
        code: isEaselError(err, 'EASEL_ERR_IMAGE_TOO_LARGE') ? err.code : 'EASEL_ERR_IMAGE_UNREADABLE',
        reason: `Still image "${name}" cannot be shown: ${err.message}`,
        hint: 'Use a complete JPEG, PNG, WebP, AVIF, TIFF or GIF under the pixel limit',
      };
      log.warn({ code: status.code, hint: status.hint }, status.reason);
    },
    status: () => status,
    async close() {
      closed.abort(new Error('Still source closed'));
    },
  };
}
