/**
 * Plays a selection of archived frames again, as a folder source plays its files: in the
 * order given (oldest first) or shuffled anew every pass, each frame once per pass. The
 * selection is fixed when the source is made; a frame removed since (retention, DELETE) is
 * skipped, and one that cannot be shown is skipped for good and logged once.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { Source, SourceImage, SourceStatus } from '../stream/source.js';
import { isTransientFsError, TRANSIENT_RETRY_MS } from '../stream/transient-error.js';
import type { ArchiveEntry } from './archive-entry.js';

export interface ArchiveSourceOptions {
  /** Oldest first. */
  entries: readonly ArchiveEntry[];
  /** Absolute path of an entry's image (the store's imagePath). */
  imagePath: (entry: ArchiveEntry) => string;
  /** 'name': the order given; 'shuffle': a new random order every pass. */
  order: 'name' | 'shuffle';
  maxFileBytes: number;
  /** What it plays, for logs and status: `wall-1, starred`. */
  label: string;
  logger: Logger;
  clock: Clock;
  random?: () => number;
}

/** The SourceImage id of an archive entry: displays and the play log can tell which entry it was. */
export const archiveImageId = (entry: ArchiveEntry): string => `a-${entry.id}`;

export function createArchiveSource(options: ArchiveSourceOptions): Source {
  const { entries, clock, logger: log, label } = options;
  const random = options.random ?? Math.random;
  /** Ids of entries gone or unshowable: never offered again. */
  const bad = new Set<string>();
  const issued = new Map<string, ArchiveEntry>();
  let deck: ArchiveEntry[] = [];
  let lastId: string | undefined;
  let problem: SourceStatus | undefined;
  const closed = new AbortController();

  function refill(): void {
    deck = entries.filter((e) => !bad.has(e.id));
    if (options.order === 'shuffle') {
      for (let i = deck.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [deck[i], deck[j]] = [deck[j]!, deck[i]!];
      }
      // Never the same frame twice in a row across the pass boundary.
      if (deck.length > 1 && archiveImageId(deck[0]!) === lastId) deck.push(deck.shift()!);
    }
  }

  function markBad(entry: ArchiveEntry, reason: string, code: string): void {
    bad.add(entry.id);
    log.warn({ archiveId: entry.id, code }, `Skipping archived frame "${entry.id}": ${reason}`);
  }

  type Attempt = { image: SourceImage } | { skip: true } | { later: true };

  async function attempt(entry: ArchiveEntry): Promise<Attempt> {
    const id = archiveImageId(entry);
    if (id === lastId) return { skip: true }; // the only usable frame: nothing new to show
    const file = options.imagePath(entry);
    try {
      const info = await stat(file);
      if (info.size > options.maxFileBytes) {
        markBad(entry, `it is ${info.size} bytes, over the limit of ${options.maxFileBytes}`, 'EASEL_ERR_IMAGE_TOO_LARGE');
        return { skip: true };
      }
      const data = await readFile(file);
      issued.set(id, entry);
      if (issued.size > 64) issued.delete(issued.keys().next().value!);
      const image: SourceImage = {
        id,
        data,
        source: 'archive',
        createdAt: clock.now(),
        ...(entry.prompt !== undefined && { prompt: entry.prompt }),
        cacheKey: `archive|${entry.id}`,
        // Proof of play names the archived file it showed again.
        file,
      };
      return { image };
    } catch (err) {
      if (isTransientFsError(err)) return { later: true };
      const code = (err as NodeJS.ErrnoException).code;
      markBad(entry, code === 'ENOENT' ? 'it was removed from the archive' : `it cannot be read: ${(err as Error).message}`, code ?? 'EIO');
      return { skip: true };
    }
  }

  function wait(signal: AbortSignal, ms: number): Promise<void> {
    return new Promise((resolve, reject) => {
      const any = AbortSignal.any([signal, closed.signal]);
      if (any.aborted) return reject(any.reason);
      const timer = Number.isFinite(ms) ? clock.setTimeout(() => resolve(), ms) : null;
      any.addEventListener(
        'abort',
        () => {
          if (timer !== null) clock.clearTimeout(timer);
          reject(any.reason);
        },
        { once: true },
      );
    });
  }

  return {
    kind: 'archive',

    async next(signal) {
      for (;;) {
        signal.throwIfAborted();
        let later = false;
        for (let tries = entries.length + 1; tries > 0; tries--) {
          if (deck.length === 0) refill();
          const entry = deck.shift();
          if (entry === undefined) break;
          const result = await attempt(entry);
          signal.throwIfAborted();
          if ('image' in result) {
            lastId = result.image.id;
            return result.image;
          }
          if ('later' in result) later = true;
        }
        if (bad.size >= entries.length && !problem) {
          problem = {
            state: 'failed',
            code: 'EASEL_ERR_FOLDER_EMPTY',
            reason: `None of the ${entries.length} archived frames selected (${label}) can be shown`,
            hint: 'Play another selection: these frames were removed from the archive or cannot be read',
          };
          log.warn({ code: problem.code, hint: problem.hint }, problem.reason);
        }
        // Out of descriptors: try again shortly. Otherwise nothing new will come: hold the last frame.
        await wait(signal, later ? TRANSIENT_RETRY_MS : Infinity);
      }
    },

    reject(image, err) {
      const entry = issued.get(image.id);
      if (!entry) return;
      if (lastId === image.id) lastId = undefined;
      if (isTransientFsError(err)) return;
      markBad(entry, err.message, (err as { code?: string }).code ?? 'EASEL_ERR_IMAGE_UNREADABLE');
    },

    status() {
      const details = { archive: label, frames: entries.length, unusable: bad.size };
      return problem ? { ...problem, details } : { state: 'ok', details };
    },

    async close() {
      closed.abort(new Error('Archive source closed'));
    },
  };
}
