/**
 * The archived frames of one canvas in a time range, oldest first, read straight from the
 * archive folder's documented layout (docs/archive.md): `<canvas>/<YYYY-MM-DD>/<name>.json`
 * beside each image. Read-only on purpose: the store's open() cleans up left-over temporary
 * files, which would delete the writes of a server running on the same folder. One day folder
 * is read at a time, so a long archive never sits in memory whole.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveEntry } from '../server/archive/archive-entry.js';

export interface ArchiveFramesOptions {
  /** The archive folder. */
  dir: string;
  canvas: string;
  /** Epoch ms, inclusive, on `madeAt`. */
  from: number;
  /** Epoch ms, exclusive, on `madeAt`. */
  to: number;
  /** Told of each `.json` that cannot be read or is not an entry of this canvas. */
  onSkipped?: (file: string, reason: string) => void;
}

export interface ArchiveFrame {
  entry: ArchiveEntry;
  /** Absolute path of the image. */
  image: string;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Day folders are named by server local time and an entry sits under its shown day: a day's margin either side. */
const MARGIN_MS = 36 * 3_600_000;

/** The canvases that have an archive folder in `dir` (for "did you mean"). */
export async function archivedCanvases(dir: string): Promise<string[]> {
  const names = await readdir(dir, { withFileTypes: true }).catch(() => []);
  return names
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'plays')
    .map((d) => d.name)
    .sort();
}

/**
 * @example
 * for await (const { entry, image } of archiveFrames({ dir: 'archive', canvas: 'wall-1', from, to })) console.log(entry.id, image);
 */
export async function* archiveFrames(options: ArchiveFramesOptions): AsyncGenerator<ArchiveFrame> {
  const { dir, canvas, from, to } = options;
  const root = path.join(dir, canvas);
  const days = (await readdir(root, { withFileTypes: true }))
    .filter((d) => d.isDirectory() && DAY.test(d.name))
    .map((d) => d.name)
    .filter((name) => {
      const [, y, m, d] = DAY.exec(name)!.map(Number) as number[];
      const start = new Date(y!, m! - 1, d!).getTime();
      const end = new Date(y!, m! - 1, d! + 1).getTime();
      return end > from - MARGIN_MS && start < to + MARGIN_MS;
    })
    .sort();
  for (const day of days) {
    const folder = path.join(root, day);
    const names = (await readdir(folder)).filter((n) => n.endsWith('.json') && !n.startsWith('.')).sort();
    const found: ArchiveFrame[] = [];
    for (const name of names) {
      const file = path.join(folder, name);
      let entry: ArchiveEntry;
      try {
        entry = JSON.parse(await readFile(file, 'utf8')) as ArchiveEntry;
      } catch (err) {
        options.onSkipped?.(file, `cannot be read: ${(err as Error).message}`);
        continue;
      }
      if (typeof entry?.file !== 'string' || typeof entry.madeAt !== 'string' || entry.canvas !== canvas) {
        options.onSkipped?.(file, 'is not an archive entry of this canvas');
        continue;
      }
      const madeAt = Date.parse(entry.madeAt);
      if (!(madeAt >= from && madeAt < to)) continue;
      const image = path.resolve(dir, entry.file);
      // The metadata is written last, but retention or DELETE may have removed the image since.
      if (
        !(await stat(image)
          .then((s) => s.isFile())
          .catch(() => false))
      ) {
        options.onSkipped?.(file, `its image "${entry.file}" is missing`);
        continue;
      }
      found.push({ entry, image });
    }
    found.sort((a, b) => Date.parse(a.entry.madeAt) - Date.parse(b.entry.madeAt) || (a.entry.id < b.entry.id ? -1 : 1));
    yield* found;
  }
}
