/**
 * Archive folders for tests: real temp folders, real stores, and a quick way to lay down
 * thousands of entries as files (as the store writes them) without paying for one write each.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import type { ArchiveEntry, ArchiveWrite } from '../../server/archive/archive-entry.js';
import { entryNames, hash8 } from '../../server/archive/archive-ids.js';
import { createArchiveStore, type ArchiveStoreOptions } from '../../server/archive/archive-store.js';
import type { PlayLine } from '../../server/archive/play-log.js';
import { FakeClock } from './fake-clock.js';
import { captureLogs } from './log-capture.js';

export const ARCHIVE_T0 = Date.UTC(2026, 11, 1, 18, 0, 0);

/** A small PNG, `colour` filled: 16x16 unless told. */
export function tinyPng(colour = '#336699', width = 16, height = 16): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();
}

/** What the recorder would hand the store for a generated frame made at `madeAtMs`. */
export function frameFor(canvas: string, data: Buffer, madeAtMs: number, extra: Partial<ArchiveWrite['meta']> = {}): ArchiveWrite {
  return {
    canvas,
    data,
    meta: {
      canvas,
      source: 'inference',
      prompt: 'a foggy harbour at dawn',
      seed: 42,
      steps: 2,
      model: 'stabilityai/sdxl-turbo',
      madeAt: new Date(madeAtMs).toISOString(),
      shownAt: new Date(madeAtMs + 500).toISOString(),
      seq: 1,
      displays: 1,
      ...extra,
    },
  };
}

/** Temp folders made by `archiveDir`, removed by `removeArchiveDirs` (call it in afterEach). */
const made: string[] = [];

export function archiveDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-archive-'));
  made.push(dir);
  return dir;
}

export function removeArchiveDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** A store over `dir` with a fake clock and captured logs; `open()` it yourself. */
export function archiveStoreFor(dir: string, overrides: Partial<ArchiveStoreOptions> = {}) {
  const clock = new FakeClock(ARCHIVE_T0);
  const { logger, lines } = captureLogs();
  const store = createArchiveStore({ dir, maxBytes: 0, maxAgeDays: 0, minFreeBytes: 0, clock, logger, ...overrides });
  return { store, clock, lines };
}

/**
 * Lays entries down as the store writes them (image, then `.json`), without an index: opening a
 * store over the folder then rebuilds it. The images are taken to be 16x16 (`tinyPng()`).
 * Returns the entries in the order given.
 */
export function writeArchiveFiles(dir: string, frames: ArchiveWrite[], mime = 'image/png'): ArchiveEntry[] {
  const folders = new Set<string>();
  return frames.map((frame) => {
    const names = entryNames(frame.canvas, Date.parse(frame.meta.madeAt), hash8(frame.data), mime);
    if (!folders.has(names.folder)) mkdirSync(path.join(dir, names.folder), { recursive: true });
    folders.add(names.folder);
    const { canvas: _canvas, ...meta } = frame.meta;
    const entry: ArchiveEntry = {
      id: names.id,
      canvas: frame.canvas,
      file: names.file,
      mime,
      bytes: frame.data.length,
      width: 16,
      height: 16,
      ...meta,
      starred: false,
    };
    writeFileSync(path.join(dir, names.file), frame.data);
    writeFileSync(path.join(dir, names.metaFile), `${JSON.stringify(entry, null, 2)}\n`);
    return entry;
  });
}

/** Every proof-of-play line in an archive folder so far, oldest day first (a test may straddle midnight). */
export function readPlays(archiveDir: string): PlayLine[] {
  const dir = path.join(archiveDir, 'plays');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .sort()
    .flatMap((name) => readFileSync(path.join(dir, name), 'utf8').split('\n').filter(Boolean))
    .map((line) => JSON.parse(line) as PlayLine);
}
