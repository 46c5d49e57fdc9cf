/**
 * The archive on disk (docs/archive.md): one folder per canvas and day, each frame an image and
 * its `.json`, both written temp + rename (image first, metadata last) so a folder holds whole
 * entries only; `index.jsonl` caches the metadata and is rebuilt from the `.json` files. Entries
 * are served from memory. Retention by size and age runs after writes and on a timer; below the
 * free-space floor writes are refused and the store says `paused`.
 */
import { mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import sharp, { type Metadata } from 'sharp';
import { SLUG_PATTERN } from '../canvas/slug.js';
import { EaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { ArchiveEntry, ArchiveQuery, ArchiveStats, ArchiveStore, ArchiveWrite } from './archive-entry.js';
import { entryNames, hash8, mimeOfFormat, parseArchiveId } from './archive-ids.js';
import { ArchiveIndex } from './archive-index.js';
import { IndexAppender, type IndexLine, writeIndexFile } from './archive-index-file.js';
import { loadArchive } from './archive-load.js';
import { writeFileAtomic } from './atomic-file.js';
import { removeEmptyDayFolder } from './day-folders.js';
import { createFreeSpaceFloor } from './free-space.js';
import { pickVictims } from './retention.js';

export interface ArchiveStoreOptions {
  /** The archive folder; made when missing. */
  dir: string;
  /** Total bytes of kept images; past it the oldest unstarred go. 0: no limit. */
  maxBytes: number;
  /** Unstarred entries older than this are removed; 0: kept for ever. */
  maxAgeDays: number;
  /** Below this many free bytes on the archive's disk, writes are refused (paused). 0: no floor. */
  minFreeBytes: number;
  clock: Clock;
  logger: Logger;
  /** Free bytes on the archive's disk; `statfs` by default. Tests simulate a small disk. */
  freeBytes?: () => Promise<number>;
  /** How often age retention and the floor are checked without writes; 60 s by default. */
  sweepIntervalMs?: number;
  /** Reads only (a time-lapse beside a running server): no clean-up, no index rewrite, no writes. */
  readOnly?: boolean;
}

const DAY_MS = 86_400_000;
const PAGE = 500;

export function createArchiveStore(options: ArchiveStoreOptions): ArchiveStore {
  const dir = path.resolve(options.dir);
  const { clock, readOnly = false } = options;
  const log = options.logger;
  const indexFile = path.join(dir, 'index.jsonl');
  const index = new ArchiveIndex();
  const appender = new IndexAppender(indexFile);
  const floor = createFreeSpaceFloor({ dir, minFreeBytes: options.minFreeBytes, logger: log, freeBytes: options.freeBytes });
  const sweepMs = options.sweepIntervalMs ?? 60_000;
  let state: 'new' | 'open' | 'closed' = 'new';
  let timer: unknown;
  let sweeping = false;
  let opened: Promise<void> | undefined;
  let closing: Promise<void> | undefined;
  /** Removed by retention since its last log line. */
  let removed = { entries: 0, bytes: 0 };
  /** Lines in index.jsonl: when they outgrow the entries, the file is rewritten. */
  let indexLines = 0;
  /** Index changes, removals and sweeps, one at a time. */
  let chain: Promise<unknown> = Promise.resolve();
  const inFlight = new Set<Promise<unknown>>();

  const serial = <T>(fn: () => Promise<T>): Promise<T> => {
    const run = chain.then(fn);
    chain = run.catch(() => undefined);
    return run;
  };
  const abs = (rel: string) => path.join(dir, rel);

  /** Why a change cannot be made now, as a rejected promise; undefined when it can. */
  function refused(what: string): Promise<never> | undefined {
    if (state !== 'open') return Promise.reject(new Error(`Archive store: ${what} before open() or after close()`));
    if (readOnly) return Promise.reject(new Error(`Archive store: ${what} on a store opened read-only`));
    return undefined;
  }

  async function appendIndex(lines: IndexLine[]): Promise<void> {
    if (readOnly) return;
    try {
      await appender.append(lines);
      indexLines += lines.length;
      if (indexLines > 2 * index.size + 1000) await rewriteIndex();
    } catch (err) {
      // The .json files hold the truth; the index is rebuilt from them on the next start.
      log.warn({ err }, 'Archive: could not update index.jsonl; it is rebuilt at the next start');
    }
  }

  async function rewriteIndex(): Promise<void> {
    const entries = index.snapshot();
    await appender.close();
    await writeIndexFile(indexFile, entries);
    indexLines = entries.length;
  }

  async function removeFiles(entry: ArchiveEntry): Promise<void> {
    // Image first: a removal cut short leaves a .json without its image, which open() clears.
    for (const rel of [entry.file, parseArchiveId(entry.id)?.metaFile ?? '']) {
      if (!rel) continue;
      await unlink(abs(rel)).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'ENOENT') log.warn({ err, slug: entry.canvas, file: rel }, `Archive: could not delete "${rel}"`);
      });
    }
  }

  /**
   * Retention: unstarred entries past the age limit, then the oldest unstarred past the size
   * limit. After a write it is quiet (a full archive removes one entry per frame); each sweep
   * says what went since the last one, in one line.
   */
  function retain(sweep: boolean): Promise<void> {
    return serial(async () => {
      if (readOnly || state !== 'open') return;
      const cutoffMs = options.maxAgeDays > 0 ? clock.now() - options.maxAgeDays * DAY_MS : Number.NEGATIVE_INFINITY;
      const victims = pickVictims(index.oldestFirst(), index.bytes, { maxBytes: options.maxBytes, cutoffMs });
      index.deleteAll(victims.map((v) => v.id));
      for (const v of victims) await removeFiles(v);
      for (const folder of new Set(victims.map((v) => path.posix.dirname(v.file))))
        await removeEmptyDayFolder(dir, folder, clock.now(), log);
      if (victims.length > 0) await appendIndex(victims.map((v) => ({ op: 'remove', id: v.id })));
      removed.entries += victims.length;
      removed.bytes += victims.reduce((n, v) => n + v.bytes, 0);
      if (!sweep || removed.entries === 0) return;
      log.info(
        { removed: removed.entries, bytes: removed.bytes, entries: index.size, totalBytes: index.bytes },
        `Archive retention removed ${removed.entries} entries (${Math.round(removed.bytes / 1024)} KB)`,
      );
      removed = { entries: 0, bytes: 0 };
    });
  }

  /** Every `sweepMs`, on a fixed cadence; a sweep still running when the next is due is not doubled. */
  function schedule(): void {
    if (readOnly || state !== 'open') return;
    timer = clock.setTimeout(() => {
      schedule();
      if (sweeping) return;
      sweeping = true;
      void Promise.all([floor.check(), retain(true)])
        .catch((err) => log.warn({ err }, 'Archive: retention sweep failed'))
        .finally(() => {
          sweeping = false;
        });
    }, sweepMs);
  }

  async function load(): Promise<void> {
    const loaded = await loadArchive(dir, indexFile, log, readOnly, clock.now());
    index.putAll(loaded.entries);
    if (!loaded.indexExact && !readOnly) await rewriteIndex();
    else indexLines = loaded.indexLines;
  }

  async function writeFrame(frame: ArchiveWrite): Promise<ArchiveEntry> {
    const { canvas, data } = frame;
    if (!SLUG_PATTERN.test(canvas)) throw new Error(`Archive: invalid canvas slug ${JSON.stringify(canvas)}`);
    const madeAtMs = Date.parse(frame.meta.madeAt);
    if (Number.isNaN(madeAtMs)) throw new Error(`Archive: invalid madeAt ${JSON.stringify(frame.meta.madeAt)}`);
    let info: Metadata;
    try {
      info = await sharp(data).metadata();
    } catch (err) {
      throw new EaselError('EASEL_ERR_IMAGE_UNREADABLE', `A frame of "${canvas}" could not be read as an image; it is not archived`, {
        hint: 'Check what the inference service or the upload sent: it must be a PNG, JPEG, WebP, AVIF, GIF or TIFF',
        cause: err,
        details: { slug: canvas },
      });
    }
    const mime = mimeOfFormat(info.format, info.compression);
    if (!mime || !info.width || !info.height) {
      throw new EaselError(
        'EASEL_ERR_UNSUPPORTED_MEDIA',
        `A frame of "${canvas}" is ${info.format ?? 'an unknown format'}; it is not archived`,
        {
          hint: 'The archive keeps PNG, JPEG, WebP, AVIF, GIF and TIFF images',
          details: { slug: canvas, format: info.format },
        },
      );
    }
    if (!(await floor.check())) {
      throw new EaselError('EASEL_ERR_ARCHIVE_PAUSED', `Archiving is paused: too little free space on the disk of "${dir}"`, {
        hint: 'Free space on that disk, move archive.dir or lower archive.maxMb; archiving resumes by itself',
        details: { slug: canvas },
      });
    }
    const names = entryNames(canvas, madeAtMs, hash8(data), mime);
    const known = index.get(names.id);
    if (known) return known; // the same bytes of the same canvas at the same millisecond
    const { canvas: _c, ...meta } = frame.meta;
    const entry: ArchiveEntry = {
      id: names.id,
      canvas,
      file: names.file,
      mime,
      bytes: data.length,
      width: info.width,
      height: info.height,
      ...meta,
      starred: false,
    };
    await mkdir(abs(names.folder), { recursive: true });
    await writeFileAtomic(abs(names.file), data).catch(async (err: NodeJS.ErrnoException) => {
      // Retention removed the (past) day folder, emptied, between the mkdir and the write.
      if (err.code !== 'ENOENT') throw err;
      await mkdir(abs(names.folder), { recursive: true });
      await writeFileAtomic(abs(names.file), data);
    });
    await writeFileAtomic(abs(names.metaFile), `${JSON.stringify(entry, null, 2)}\n`);
    await serial(async () => {
      index.put(entry);
      await appendIndex([entry]);
    });
    await retain(false).catch((err) => log.warn({ err }, 'Archive: retention failed'));
    return entry;
  }

  const store: ArchiveStore = {
    dir,
    open() {
      if (opened) return Promise.reject(new Error('Archive store: open() called twice'));
      opened = (async () => {
        await load();
        if (closing) return; // close() was called while it opened
        state = 'open';
        await floor.check();
        await retain(true);
        schedule();
      })();
      return opened;
    },
    write(frame) {
      const no = refused('write()');
      if (no) return no;
      const p = writeFrame(frame);
      inFlight.add(p);
      const done = () => inFlight.delete(p);
      p.then(done, done);
      return p;
    },
    list(query: ArchiveQuery, limit: number, cursor?: string) {
      return index.page(query, limit, cursor);
    },
    *select(query: ArchiveQuery) {
      let cursor: string | undefined;
      do {
        const page = index.page(query, PAGE, cursor);
        yield* page.items;
        cursor = page.next ?? undefined;
      } while (cursor !== undefined);
    },
    get: (id) => index.get(id),
    imagePath: (entry) => abs(entry.file),
    setStarred(id, starred) {
      return (
        refused('setStarred()') ??
        serial(async () => {
          const entry = index.get(id);
          if (!entry || entry.starred === starred) return entry;
          const next = { ...entry, starred };
          // The index line first: a crash before the .json is rewritten has open() re-read it.
          await appendIndex([{ op: 'star', id, starred }]);
          await writeFileAtomic(abs(parseArchiveId(id)!.metaFile), `${JSON.stringify(next, null, 2)}\n`);
          index.put(next);
          return next;
        })
      );
    },
    remove(id) {
      return (
        refused('remove()') ??
        serial(async () => {
          const entry = index.delete(id);
          if (!entry) return false;
          await removeFiles(entry);
          await appendIndex([{ op: 'remove', id }]);
          return true;
        })
      );
    },
    stats(): ArchiveStats {
      return { entries: index.size, bytes: index.bytes, starred: index.starred, paused: floor.paused };
    },
    close() {
      closing ??= (async () => {
        await opened?.catch(() => undefined);
        state = 'closed';
        if (timer !== undefined) clock.clearTimeout(timer);
        await Promise.allSettled([...inFlight]);
        await chain;
        await appender.close();
      })();
      return closing;
    },
  };
  return store;
}
