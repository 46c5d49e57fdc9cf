/**
 * The archive wired into the server in one place (docs/archive.md): opens the store in
 * `archive.dir`, feeds it the frames canvases show (archive-recorder.ts), writes the proof-of-play
 * log (play-log.ts), counts both for /metrics, and closes them in order. With `archive.dir` = ""
 * none of it exists. A canvas with `"archive": false` is neither archived nor logged; in cluster
 * mode each node archives and logs only the canvases it produces, so a frame is kept once.
 */
import path from 'node:path';
import type client from 'prom-client';
import type { Frame } from '../canvas/frame.js';
import type { RegistryEvent } from '../canvas/registry.js';
import type { CanvasConfig, EaselConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { ArchiveStore } from './archive-entry.js';
import { registerArchiveMetrics } from './archive-metrics.js';
import { createArchiveRecorder, type RecorderCounts } from './archive-recorder.js';
import { createArchiveStore } from './archive-store.js';
import { createPlayLog } from './play-log.js';

export interface ArchiveOptions {
  config: Pick<EaselConfig, 'archive'>;
  canvases: {
    onEvent(listener: (event: RegistryEvent) => void): () => void;
    get(slug: string): { config: Pick<CanvasConfig, 'archive'>; channel: { displays: { size: number } } } | undefined;
  };
  /** Cluster mode: whether this node produces a canvas (only the producer archives and logs it). */
  producedHere?: ((slug: string) => boolean) | undefined;
  /** Where the `easel_archive_*` series go. */
  register?: client.Registry;
  clock: Clock;
  logger: Logger;
  /** Tests: a store of their own instead of the one in archive.dir. */
  store?: ArchiveStore;
  /** Frames waiting to be written at most (docs: 64). */
  maxPending?: number;
}

export interface ArchiveCounts extends RecorderCounts {
  entries: number;
  bytes: number;
  paused: boolean;
  playLines: number;
  playDropped: number;
}

export interface Archive {
  /** The store the API, the gallery and replay read (and star, remove) through. */
  readonly store: ArchiveStore;
  /** archive.* as configured (thumbCacheMb for the API). */
  readonly settings: EaselConfig['archive'];
  /** Resolves true once the store is open, false when it could not be (the archive stays off). */
  readonly ready: Promise<boolean>;
  counts(): ArchiveCounts;
  /** Stops listening, writes what waits, closes the play log and the store. */
  close(): Promise<void>;
}

/** undefined when `archive.dir` is "" (no archive, no play log). */
export function connectArchive(options: ArchiveOptions): Archive | undefined {
  const settings = options.config.archive;
  if (settings.dir === '') return undefined;
  const { clock } = options;
  const log = options.logger.child({ component: 'archive' });
  const dir = path.resolve(settings.dir);
  const store =
    options.store ??
    createArchiveStore({
      dir,
      maxBytes: settings.maxMb * 1024 * 1024,
      maxAgeDays: settings.maxAgeDays,
      minFreeBytes: settings.minFreeMb * 1024 * 1024,
      clock,
      logger: log,
    });
  const ready = store.open().then(
    () => {
      log.info({ dir, entries: store.stats().entries }, `Archive open in "${dir}"`);
      return true;
    },
    (err: unknown) => {
      log.error({ dir, err }, `Archive cannot open "${dir}": ${(err as Error).message}; frames are not archived`);
      stop();
      return false;
    },
  );
  const recorder = createArchiveRecorder({
    store,
    ready,
    clock,
    logger: log,
    ...(options.maxPending && { maxPending: options.maxPending }),
  });
  const plays = createPlayLog({ dir: path.join(dir, 'plays'), keepDays: settings.playLogDays, clock, logger: log });
  void ready.then(async (open) => {
    if (open) await plays.sweep();
  });
  const mine = options.producedHere ?? (() => true);

  function shown(slug: string, frame: Frame): void {
    const canvas = options.canvases.get(slug);
    if (!canvas || canvas.config.archive === false || !mine(slug)) return;
    const displays = canvas.channel.displays.size;
    const archiveId = frame.image.archiveId ?? recorder.record(slug, frame, displays);
    plays.append(
      {
        at: new Date(frame.presentAt ?? frame.slotTime).toISOString(),
        canvas: slug,
        seq: frame.seq,
        imageId: frame.imageId,
        source: frame.source,
        file: frame.image.file ?? null,
        displays,
      },
      archiveId,
    );
  }

  let unsubscribe: (() => void) | undefined = options.canvases.onEvent((event) => {
    if (event.type === 'frame') shown(event.slug, event.frame);
  });
  function stop(): void {
    unsubscribe?.();
    unsubscribe = undefined;
  }

  const counts = (): ArchiveCounts => {
    const s = store.stats();
    const p = plays.counts();
    return {
      ...recorder.counts(),
      entries: s.entries,
      bytes: s.bytes,
      paused: s.paused,
      playLines: p.lines,
      playDropped: p.dropped,
    };
  };
  if (options.register) registerArchiveMetrics(options.register, counts);
  let closing: Promise<void> | undefined;

  return {
    store,
    settings,
    ready,
    counts,
    close() {
      closing ??= (async () => {
        stop();
        await recorder.flush();
        await plays.close();
        if (await ready) await store.close();
      })();
      return closing;
    },
  };
}
