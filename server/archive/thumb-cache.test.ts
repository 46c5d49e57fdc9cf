import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { noisyJpeg } from '../../test/support/images.js';
import { tempFolder } from '../../test/support/server.js';
import { createThumbCache } from './thumb-cache.js';

const logger = pino({ level: 'silent' });
let folder: ReturnType<typeof tempFolder>;
afterEach(() => folder.remove());

/** An archive folder with `n` noisy originals (noise compresses badly, so thumbnails have real sizes). */
async function archiveWith(n: number): Promise<string[]> {
  folder = tempFolder('easel-thumbs-');
  const files: string[] = [];
  for (let i = 0; i < n; i++) {
    const file = path.join(folder.dir, `img-${i}.jpg`);
    writeFileSync(file, await noisyJpeg(800, 600, i + 1));
    files.push(file);
  }
  return files;
}
const idOf = (i: number) => `wall.20261201.19051234${i}-ab12cd34`;

describe('thumbnail cache', () => {
  it('makes a WebP that wide once, then serves it from disk', async () => {
    const [original] = await archiveWith(1);
    const cache = createThumbCache({ dir: folder.dir, maxBytes: 10_000_000, limitInputPixels: 10_000_000, logger });
    const first = await cache.get(idOf(0), original!, 320);
    const second = await cache.get(idOf(0), original!, 320);
    expect([first.hit, second.hit]).toEqual([false, true]);
    expect(second.data.equals(first.data)).toBe(true);
    const meta = await sharp(first.data).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 320, 240]);
    expect(existsSync(path.join(folder.dir, '.thumbs', '320', `${idOf(0)}.webp`))).toBe(true);
    expect(cache.stats()).toMatchObject({ hits: 1, misses: 1, files: 1, bytes: first.data.length });
  });

  it('never makes one wider than its original', async () => {
    const [original] = await archiveWith(1);
    const cache = createThumbCache({ dir: folder.dir, maxBytes: 10_000_000, limitInputPixels: 10_000_000, logger });
    expect((await sharp((await cache.get(idOf(0), original!, 1280)).data).metadata()).width).toBe(800);
  });

  it('stays under its size, letting the least recently used go first', async () => {
    const originals = await archiveWith(4);
    const probe = createThumbCache({ dir: path.join(folder.dir, 'probe'), maxBytes: 10_000_000, limitInputPixels: 10_000_000, logger });
    const size = (await probe.get(idOf(0), originals[0]!, 160)).data.length;
    // Room for three of these thumbnails, not four.
    const cache = createThumbCache({ dir: folder.dir, maxBytes: Math.floor(size * 3.5), limitInputPixels: 10_000_000, logger });
    for (let i = 0; i < 3; i++) await cache.get(idOf(i), originals[i]!, 160);
    await cache.get(idOf(0), originals[0]!, 160); // used again: now the newest
    await cache.get(idOf(3), originals[3]!, 160); // pushes out the least recently used: 1
    expect(cache.stats().evictions).toBe(1);
    expect(cache.stats().bytes).toBeLessThanOrEqual(Math.floor(size * 3.5));
    const kept = readdirSync(path.join(folder.dir, '.thumbs', '160')).sort();
    expect(kept).toEqual([0, 2, 3].map((i) => `${idOf(i)}.webp`));
    expect((await cache.get(idOf(0), originals[0]!, 160)).hit).toBe(true);
    expect((await cache.get(idOf(1), originals[1]!, 160)).hit).toBe(false);
  });

  it('knows what an earlier run cached and clears its half-written files', async () => {
    const [original] = await archiveWith(1);
    const before = createThumbCache({ dir: folder.dir, maxBytes: 10_000_000, limitInputPixels: 10_000_000, logger });
    const made = await before.get(idOf(0), original!, 640);
    const leftOver = path.join(folder.dir, '.thumbs', '640', `${idOf(1)}.webp.1234.tmp`);
    writeFileSync(leftOver, 'half');
    const after = createThumbCache({ dir: folder.dir, maxBytes: 10_000_000, limitInputPixels: 10_000_000, logger });
    expect((await after.get(idOf(0), original!, 640)).hit).toBe(true);
    expect(after.stats()).toMatchObject({ files: 1, bytes: made.data.length });
    expect(existsSync(leftOver)).toBe(false);
  });

  it('makes a thumbnail again when its file was deleted by hand, and forgets an entry', async () => {
    const [original] = await archiveWith(1);
    const cache = createThumbCache({ dir: folder.dir, maxBytes: 10_000_000, limitInputPixels: 10_000_000, logger });
    await cache.get(idOf(0), original!, 160);
    await cache.get(idOf(0), original!, 320);
    await cache.forget(idOf(0));
    expect(cache.stats()).toMatchObject({ files: 0, bytes: 0 });
    expect(readdirSync(path.join(folder.dir, '.thumbs', '160'))).toEqual([]);
    expect((await cache.get(idOf(0), original!, 160)).hit).toBe(false);
  });

  it('makes one thumbnail for requests that arrive together', async () => {
    const [original] = await archiveWith(1);
    const cache = createThumbCache({ dir: folder.dir, maxBytes: 10_000_000, limitInputPixels: 10_000_000, logger });
    const all = await Promise.all(Array.from({ length: 5 }, () => cache.get(idOf(0), original!, 320)));
    expect(new Set(all.map((r) => r.data.length)).size).toBe(1);
    expect(cache.stats().files).toBe(1);
  });

  it('refuses an original over the pixel limit without decoding it', async () => {
    const [original] = await archiveWith(1);
    const cache = createThumbCache({ dir: folder.dir, maxBytes: 10_000_000, limitInputPixels: 100_000, logger });
    await expect(cache.get(idOf(0), original!, 160)).rejects.toThrow(/pixel limit/);
    const thumbs = path.join(folder.dir, '.thumbs', '160');
    expect(existsSync(thumbs) ? readdirSync(thumbs) : []).toEqual([]);
    expect(cache.stats()).toMatchObject({ misses: 1, files: 0 });
  });
});
