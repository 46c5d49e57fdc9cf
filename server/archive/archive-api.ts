/**
 * The archive's HTTP side in one call for app.ts: the export (registered first, so `export` is
 * never read as an id), the entry routes, the thumbnail cache and their series on /metrics.
 */
import type client from 'prom-client';
import { mirroredCounter, mirroredGauge } from '../mirrored-metrics.js';
import type { TemplatedApp } from 'uWebSockets.js';
import type { createApi } from '../api/http.js';
import type { CanvasCommands } from '../control/command-types.js';
import type { Logger } from '../logger.js';
import type { ArchiveStore } from './archive-entry.js';
import { registerArchiveExport, type ExportStats } from './archive-export.js';
import { registerArchiveRoutes } from './archive-routes.js';
import { createThumbCache, type ThumbCache, type ThumbStats } from './thumb-cache.js';

export interface ArchiveApiOptions {
  app: TemplatedApp;
  api: ReturnType<typeof createApi>;
  /** The archive (server/archive/archive.ts); undefined when `archive.dir` is "". */
  archive: { store: ArchiveStore; ready: Promise<boolean> } | undefined;
  commands: Pick<CanvasCommands, 'showStill'>;
  thumbCacheMb: number;
  limitInputPixels: number;
  /** `displays.token` is set: cached images are marked private. */
  privateReads: boolean;
  register: client.Registry;
  logger: Logger;
}

export function registerArchiveApi(options: ArchiveApiOptions): { thumbs: () => ThumbStats | undefined; exports: () => ExportStats } {
  const log = options.logger.child({ component: 'archive-api' });
  // Served once open: before that (and when it cannot open) the routes answer as with the archive off.
  let open: ArchiveStore | undefined;
  void options.archive?.ready.then((ok) => {
    if (ok) open = options.archive?.store;
  });
  const store = () => open;
  let thumbs: { dir: string; cache: ThumbCache } | undefined;
  /** One cache per archive folder, made when the store is first asked for a thumbnail. */
  const thumbCache = () => {
    const current = store();
    if (!current) return undefined;
    if (thumbs?.dir !== current.dir)
      thumbs = {
        dir: current.dir,
        cache: createThumbCache({
          dir: current.dir,
          maxBytes: options.thumbCacheMb * 1024 * 1024,
          limitInputPixels: options.limitInputPixels,
          logger: log,
        }),
      };
    return thumbs.cache;
  };
  const exporter = registerArchiveExport({ app: options.app, api: options.api, store, logger: log });
  registerArchiveRoutes({
    api: options.api,
    store,
    thumbs: thumbCache,
    commands: options.commands,
    privateReads: options.privateReads,
    logger: log,
  });
  const stats = { thumbs: () => thumbs?.cache.stats(), exports: exporter.stats };
  // Like the archive's own series, these exist while the archive is on.
  if (options.archive) registerArchiveApiMetrics(options.register, stats);
  return stats;
}

function registerArchiveApiMetrics(register: client.Registry, read: { thumbs: () => ThumbStats | undefined; exports: () => ExportStats }) {
  const counter = (name: string, help: string, value: () => number) => mirroredCounter(register, name, help, value);
  counter('easel_archive_thumbnail_hits_total', 'Archive thumbnails served from the disk cache', () => read.thumbs()?.hits ?? 0);
  counter('easel_archive_thumbnail_misses_total', 'Archive thumbnails made from the original', () => read.thumbs()?.misses ?? 0);
  counter(
    'easel_archive_thumbnail_evictions_total',
    'Archive thumbnails removed to keep the cache under archive.thumbCacheMb',
    () => read.thumbs()?.evictions ?? 0,
  );
  mirroredGauge(register, 'easel_archive_thumbnail_cache_bytes', 'Bytes of archive thumbnails on disk', () => read.thumbs()?.bytes ?? 0);
  counter('easel_archive_exports_total', 'Archive zip exports sent whole', () => read.exports().completed);
  counter(
    'easel_archive_exports_failed_total',
    'Archive zip exports that ended early (client left, a file vanished)',
    () => read.exports().failed,
  );
  counter('easel_archive_export_bytes_total', 'Bytes of archive zip exports handed to clients', () => read.exports().sentBytes);
}
