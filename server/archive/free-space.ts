/**
 * The archive's free-space floor: below `minFreeBytes` free on its disk, archiving pauses, with
 * one warning, and resumes with one line once there is room again. The free space is asked for
 * at each check (a `statfs`, microseconds), so a disk freed by hand is noticed at the next frame.
 */
import { statfs } from 'node:fs/promises';
import type { Logger } from '../logger.js';

export interface FreeSpaceFloorOptions {
  dir: string;
  /** 0 turns the floor off. */
  minFreeBytes: number;
  logger: Logger;
  /** Bytes free to this process on the archive's disk; tests pass a small disk. */
  freeBytes?: () => Promise<number>;
}

export interface FreeSpaceFloor {
  /** Whether archiving may go on; updates `paused` and logs a change. */
  check(): Promise<boolean>;
  readonly paused: boolean;
}

/** Free bytes on the disk holding `dir`, as an unprivileged process may use them. */
export async function diskFreeBytes(dir: string): Promise<number> {
  const s = await statfs(dir);
  return s.bavail * s.bsize;
}

export function createFreeSpaceFloor(options: FreeSpaceFloorOptions): FreeSpaceFloor {
  const { dir, minFreeBytes, logger } = options;
  const freeBytes = options.freeBytes ?? (() => diskFreeBytes(dir));
  let paused = false;
  let failing = false;
  const mb = (n: number) => Math.round(n / 1048576);

  return {
    get paused() {
      return paused;
    },
    async check() {
      if (minFreeBytes <= 0) return true;
      let free: number;
      try {
        free = await freeBytes();
        failing = false;
      } catch (err) {
        // A disk that cannot be asked is not known to be full: archiving goes on, said once.
        if (!failing) logger.warn({ err, dir }, `Archive: cannot read the free space of "${dir}"; the free-space floor is not checked`);
        failing = true;
        return !paused;
      }
      if (free < minFreeBytes && !paused) {
        paused = true;
        logger.warn(
          { dir, freeMb: mb(free), minFreeMb: mb(minFreeBytes) },
          `Archive paused: ${mb(free)} MB free on the disk of "${dir}", under archive.minFreeMb (${mb(minFreeBytes)} MB); frames are not archived until there is room`,
        );
      } else if (free >= minFreeBytes && paused) {
        paused = false;
        logger.info({ dir, freeMb: mb(free), minFreeMb: mb(minFreeBytes) }, `Archive resumed: ${mb(free)} MB free on the disk of "${dir}"`);
      }
      return !paused;
    },
  };
}
