/**
 * WebP thumbnails of archive entries, kept on disk in `<archive>/.thumbs/<w>/<id>.webp` so the
 * gallery's grid costs one decode per image and width, ever. The folder is a cache: bounded by
 * `archive.thumbCacheMb`, least recently used out first, safe to delete by hand (a missing file
 * is made again). Each file is written to a temporary name and renamed, so a reader or a crash
 * never sees half a thumbnail.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { Logger } from '../logger.js';

/** The widths the API makes: a few, so the cache holds few variants of each image. */
export const THUMB_WIDTHS = [160, 320, 640, 1280] as const;

export interface ThumbCacheOptions {
  /** The archive folder; thumbnails go under its `.thumbs`. */
  dir: string;
  maxBytes: number;
  /** `render.limitInputPixels`: an original over it is refused before it is decoded. */
  limitInputPixels: number;
  logger: Logger;
}

export interface ThumbStats {
  hits: number;
  misses: number;
  evictions: number;
  files: number;
  bytes: number;
}

export type ThumbCache = ReturnType<typeof createThumbCache>;

export function createThumbCache(options: ThumbCacheOptions) {
  const root = path.join(options.dir, '.thumbs');
  /** Size of each cached file by `<w>/<id>`, least recently used first (a Map keeps insertion order). */
  const used = new Map<string, number>();
  const making = new Map<string, Promise<Buffer>>();
  const stats: ThumbStats = { hits: 0, misses: 0, evictions: 0, files: 0, bytes: 0 };
  let loaded: Promise<void> | undefined;

  const fileOf = (key: string) => path.join(root, `${key}.webp`);

  /** What an earlier run left, oldest use first (by access time, else modification time). */
  async function load(): Promise<void> {
    const found: Array<{ key: string; size: number; at: number }> = [];
    for (const width of THUMB_WIDTHS) {
      const folder = path.join(root, String(width));
      const names = await readdir(folder).catch(() => [] as string[]);
      for (const name of names) {
        const file = path.join(folder, name);
        if (name.endsWith('.tmp')) {
          await unlink(file).catch(() => undefined);
          continue;
        }
        if (!name.endsWith('.webp')) continue;
        const info = await stat(file).catch(() => undefined);
        if (info?.isFile()) found.push({ key: `${width}/${name.slice(0, -5)}`, size: info.size, at: Math.max(info.atimeMs, info.mtimeMs) });
      }
    }
    found.sort((a, b) => a.at - b.at);
    for (const f of found) remember(f.key, f.size);
    await evict();
  }

  function remember(key: string, size: number): void {
    const before = used.get(key);
    if (before !== undefined) {
      used.delete(key);
      stats.bytes -= before;
      stats.files -= 1;
    }
    used.set(key, size);
    stats.bytes += size;
    stats.files += 1;
  }

  function drop(key: string): void {
    const size = used.get(key);
    if (size === undefined) return;
    used.delete(key);
    stats.bytes -= size;
    stats.files -= 1;
  }

  async function evict(): Promise<void> {
    while (stats.bytes > options.maxBytes && used.size > 0) {
      const key = used.keys().next().value as string;
      drop(key);
      stats.evictions += 1;
      await unlink(fileOf(key)).catch(() => undefined);
    }
  }

  async function make(key: string, original: string, width: number): Promise<Buffer> {
    const data = await sharp(original, { limitInputPixels: options.limitInputPixels })
      .rotate()
      .resize({ width, withoutEnlargement: true })
      .webp({ quality: 78, effort: 2 })
      .toBuffer();
    const file = fileOf(key);
    const temp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(temp, data);
      await rename(temp, file);
      remember(key, data.length);
      await evict();
    } catch (err) {
      // A full or read-only disk costs the cache, not the reply.
      await unlink(temp).catch(() => undefined);
      options.logger.warn({ err, thumbnail: key }, 'Archive thumbnail could not be cached on disk');
    }
    return data;
  }

  return {
    stats: (): Readonly<ThumbStats> => ({ ...stats }),

    /** The thumbnail of entry `id` `width` wide, from the cache or made from `original` now. */
    async get(id: string, original: string, width: number): Promise<{ data: Buffer; hit: boolean }> {
      loaded ??= load().catch((err: unknown) => options.logger.warn({ err }, 'Archive thumbnail cache could not be read; starting empty'));
      await loaded;
      const key = `${width}/${id}`;
      if (used.has(key)) {
        const data = await readFile(fileOf(key)).catch(() => undefined);
        if (data) {
          remember(key, data.length);
          stats.hits += 1;
          return { data, hit: true };
        }
        drop(key);
      }
      stats.misses += 1;
      let pending = making.get(key);
      if (!pending) {
        pending = make(key, original, width).finally(() => making.delete(key));
        making.set(key, pending);
      }
      return { data: await pending, hit: false };
    },

    /** Removes every thumbnail of an entry (after `DELETE /api/archive/:id`). */
    async forget(id: string): Promise<void> {
      for (const width of THUMB_WIDTHS) {
        const key = `${width}/${id}`;
        drop(key);
        await rm(fileOf(key), { force: true });
      }
    },
  };
}
