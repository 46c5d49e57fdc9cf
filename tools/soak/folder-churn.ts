/**
 * The soak's changing folder: images added (some written in two halves, as a slow copy would),
 * removed and rewritten in place, within a bounded count. New pictures are variants of the
 * bundled assets (hue turned, maybe mirrored), so each is new to the server's rendition cache.
 */
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { between, pick } from '../support/random.js';

export interface FolderChurnOptions {
  dir: string;
  /** Encoded images to make variants of. */
  sources: readonly Buffer[];
  random: () => number;
  minFiles: number;
  maxFiles: number;
}

export interface ChurnCounts {
  added: number;
  addedSlowly: number;
  removed: number;
  rewritten: number;
}

const IMAGE = /\.(jpe?g|png|webp)$/i;

/** Copies the images of `from` into `to`; returns how many. */
export async function copyImages(from: string, to: string): Promise<number> {
  const names = (await readdir(from)).filter((n) => IMAGE.test(n));
  await Promise.all(names.map(async (n) => writeFile(path.join(to, n), await readFile(path.join(from, n)))));
  return names.length;
}

export function createFolderChurn(o: FolderChurnOptions) {
  const counts: ChurnCounts = { added: 0, addedSlowly: 0, removed: 0, rewritten: 0 };
  let serial = 0;

  const variant = async (): Promise<Buffer> => {
    let pipeline = sharp(pick(o.random, o.sources)).modulate({ hue: Math.floor(between(o.random, 1, 359)) });
    if (o.random() < 0.5) pipeline = pipeline.flop();
    return pipeline.jpeg({ quality: 85 }).toBuffer();
  };

  return {
    counts,
    /** Makes one random change to the folder; returns what it did, for the event log. */
    async step(): Promise<string> {
      const files = (await readdir(o.dir)).filter((n) => IMAGE.test(n)).sort();
      const roll = o.random();
      if (files.length < o.maxFiles && (roll < 0.4 || files.length <= o.minFiles)) {
        const name = `soak-${String(++serial).padStart(4, '0')}.jpg`;
        const data = await variant();
        const file = path.join(o.dir, name);
        if (o.random() < 0.3) {
          // Half now, the rest a moment later: the server must not show or reject a half-copied file.
          await writeFile(file, data.subarray(0, data.length >> 1));
          await new Promise((r) => setTimeout(r, 200));
          await writeFile(file, data);
          counts.addedSlowly++;
        } else {
          await writeFile(file, data);
        }
        counts.added++;
        return `added ${name}`;
      }
      if (files.length > o.minFiles && roll < 0.7) {
        const name = pick(o.random, files);
        await rm(path.join(o.dir, name), { force: true });
        counts.removed++;
        return `removed ${name}`;
      }
      const name = pick(o.random, files);
      await writeFile(path.join(o.dir, name), await variant());
      counts.rewritten++;
      return `rewrote ${name}`;
    },
  };
}
