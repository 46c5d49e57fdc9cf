/**
 * What feeds the archive: each frame a canvas shows that came from the image model or an
 * operator's upload is handed to the store once, the first time it is shown, with the time it
 * went on screen and how many displays showed it. Writes run one at a time off the slot path;
 * at most `maxPending` frames wait, and past that a frame is dropped and counted (one warning),
 * so a slow disk never holds a frame back or fills the memory.
 */
import { isEaselError } from '../errors.js';
import type { Frame } from '../canvas/frame.js';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { ArchiveStore, ArchiveWrite } from './archive-entry.js';

/** Sources whose frames exist nowhere else: the archive keeps them (docs/archive.md, What is kept). */
const KEPT_SOURCES = new Set(['inference', 'upload']);
/** Image ids remembered, so a frame shown again is not written again. */
const REMEMBERED = 1024;

export interface ArchiveRecorderOptions {
  store: Pick<ArchiveStore, 'write'>;
  /** Resolves once the store is open; frames wait for it (counted in the queue). */
  ready?: Promise<unknown>;
  clock: Clock;
  logger: Logger;
  /** Frames waiting or being written at most; past it a frame is dropped. Default 64. */
  maxPending?: number;
}

export interface RecorderCounts {
  /** Frames the store kept. */
  written: number;
  /** Frames left out because the queue was full. */
  dropped: number;
  /** Frames the store refused (paused below the free-space floor, unreadable bytes, disk errors). */
  failed: number;
  /** Waiting or being written now. */
  pending: number;
}

export interface ArchiveRecorder {
  /**
   * Hands a shown frame to the archive when its source is kept; never waits. Answers the
   * archive id the frame gets (null when it is not kept or not written), for the play log.
   */
  record(slug: string, frame: Frame, displays: number): Promise<string | null>;
  counts(): RecorderCounts;
  /** Waits for the frames queued so far to be written. */
  flush(): Promise<void>;
}

/** Whether the archive keeps a frame: generated or uploaded, and not a copy of one kept before (restored, or from the archive). */
export function isKept(frame: Frame): boolean {
  const { image } = frame;
  return KEPT_SOURCES.has(image.source) && image.restored !== true && image.archiveId === undefined;
}

/** The metadata the store writes beside the image. */
export function archiveWriteOf(slug: string, frame: Frame, displays: number): ArchiveWrite {
  const { image } = frame;
  return {
    canvas: slug,
    data: image.data,
    meta: {
      canvas: slug,
      source: image.source,
      ...(image.prompt !== undefined && { prompt: image.prompt }),
      ...image.generation,
      ...(image.job !== undefined && { job: image.job }),
      ...(image.playlist && { playlist: image.playlist }),
      madeAt: frame.madeAt,
      shownAt: new Date(frame.presentAt ?? frame.slotTime).toISOString(),
      seq: frame.seq,
      displays,
    },
  };
}

export function createArchiveRecorder(options: ArchiveRecorderOptions): ArchiveRecorder {
  const { store, logger: log } = options;
  const maxPending = options.maxPending ?? 64;
  const limiter = createLogLimiter({ now: () => options.clock.now() });
  const seen = new Map<string, Promise<string | null>>();
  const counts = { written: 0, dropped: 0, failed: 0, pending: 0 };
  /** The last write queued: the next one starts after it, so writes run one at a time. */
  let tail: Promise<unknown> = options.ready?.catch(() => undefined) ?? Promise.resolve();
  let warnedFull = false;

  function remember(key: string, id: Promise<string | null>): void {
    seen.set(key, id);
    if (seen.size > REMEMBERED) seen.delete(seen.keys().next().value!);
  }

  async function write(slug: string, frame: Frame, displays: number): Promise<string | null> {
    try {
      const entry = await store.write(archiveWriteOf(slug, frame, displays));
      counts.written += 1;
      return entry.id;
    } catch (err) {
      counts.failed += 1;
      // The store says once when it pauses for disk space; other trouble gets one line a minute per kind.
      const kind = isEaselError(err) ? err.code : 'error';
      const left = kind === 'EASEL_ERR_ARCHIVE_PAUSED' ? undefined : limiter.take(kind);
      if (left !== undefined)
        log.warn({ slug, imageId: frame.imageId, err, leftOut: left }, `Archive: frame of "${slug}" not kept: ${(err as Error).message}`);
      return null;
    } finally {
      counts.pending -= 1;
    }
  }

  return {
    record(slug, frame, displays) {
      if (!isKept(frame)) return Promise.resolve(null);
      const key = `${slug}\0${frame.imageId}`;
      const known = seen.get(key);
      if (known) return known;
      if (counts.pending >= maxPending) {
        counts.dropped += 1;
        if (!warnedFull) {
          warnedFull = true;
          log.warn(
            { slug, maxPending },
            `Archive: ${maxPending} frames already wait to be written; frames are left out of the archive until the disk catches up (easel_archive_dropped_total counts them)`,
          );
        }
        return Promise.resolve(null);
      }
      if (counts.pending === 0) warnedFull = false;
      counts.pending += 1;
      const id = tail.then(() => write(slug, frame, displays));
      tail = id;
      remember(key, id);
      return id;
    },
    counts: () => ({ ...counts }),
    async flush() {
      await tail;
    },
  };
}
