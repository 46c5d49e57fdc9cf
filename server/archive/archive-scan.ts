/**
 * Walks the archive folder (`<canvas>/<YYYY-MM-DD>/<name>.<ext>`) by directory listings only, to
 * find every entry's metadata and image without reading them, and to clean up after a crash:
 * left-over `*.tmp` files are deleted, and empty day folders noted. Anything else a person put
 * there is left alone.
 */
import type { Dirent } from 'node:fs';
import { readdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { SLUG_PATTERN } from '../canvas/slug.js';
import { DAY_FOLDER, ENTRY_NAME, IMAGE_EXTENSIONS } from './archive-ids.js';

export interface ScannedEntry {
  id: string;
  canvas: string;
  /** The metadata, relative to the archive folder. */
  metaFile: string;
  /** The image, relative to the archive folder; undefined when only the metadata is there. */
  image: string | undefined;
}

export interface ArchiveScan {
  /** Entries with a `.json`, by id. */
  entries: Map<string, ScannedEntry>;
  /** Images without their `.json` (relative paths), with their canvas. */
  orphanImages: Array<{ canvas: string; file: string }>;
  /** `*.tmp` files found (and deleted unless the scan was read-only). */
  tempFiles: number;
  /** Day folders with nothing left in them (relative paths). */
  emptyFolders: string[];
}

async function list(dir: string): Promise<Dirent[]> {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

export async function scanArchive(root: string, options: { deleteTemp: boolean }): Promise<ArchiveScan> {
  const scan: ArchiveScan = { entries: new Map(), orphanImages: [], tempFiles: 0, emptyFolders: [] };
  const dropTemp = async (file: string) => {
    scan.tempFiles++;
    if (options.deleteTemp) await unlink(file).catch(() => undefined);
  };
  for (const top of await list(root)) {
    if (top.isFile() && top.name.endsWith('.tmp')) await dropTemp(path.join(root, top.name));
    if (!top.isDirectory() || !SLUG_PATTERN.test(top.name)) continue;
    const canvas = top.name;
    for (const dayDir of await list(path.join(root, canvas))) {
      if (!dayDir.isDirectory() || !DAY_FOLDER.test(dayDir.name)) continue;
      const folder = `${canvas}/${dayDir.name}`;
      const images = new Map<string, string>();
      const metas = new Set<string>();
      let seen = 0;
      let kept = 0;
      for (const f of await list(path.join(root, folder))) {
        // A day folder may hold 100,000 files: the event loop gets turns meanwhile.
        if (++seen % 5000 === 0) await new Promise((resolve) => setImmediate(resolve));
        if (!f.isFile() || !(f.name.endsWith('.tmp') && options.deleteTemp)) kept++;
        if (!f.isFile()) continue;
        if (f.name.endsWith('.tmp')) {
          await dropTemp(path.join(root, folder, f.name));
          continue;
        }
        const dot = f.name.lastIndexOf('.');
        const name = f.name.slice(0, dot);
        const ext = f.name.slice(dot + 1);
        if (dot < 0 || !ENTRY_NAME.test(name)) continue;
        if (ext === 'json') metas.add(name);
        else if (IMAGE_EXTENSIONS.has(ext)) images.set(name, `${folder}/${f.name}`);
      }
      if (kept === 0) scan.emptyFolders.push(folder);
      const compactDay = dayDir.name.replaceAll('-', '');
      for (const name of metas) {
        const id = `${canvas}.${compactDay}.${name}`; // each part checked above: the id of its files
        scan.entries.set(id, { id, canvas, metaFile: `${folder}/${name}.json`, image: images.get(name) });
      }
      for (const [name, file] of images) if (!metas.has(name)) scan.orphanImages.push({ canvas, file });
    }
  }
  return scan;
}
