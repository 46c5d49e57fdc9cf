/**
 * Day folders (`<canvas>/<YYYY-MM-DD>`) retention has emptied are removed, so an archive that runs
 * for months does not gather a folder per canvas per day. Only days before yesterday (server
 * time): frames are being written into today's folder, and yesterday's just after midnight.
 * `rmdir` removes only an empty folder, so a file someone put there keeps its folder.
 */
import { rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import { localStamp } from './archive-ids.js';

const DAY_MS = 86_400_000;

/** Whether `folder` (`<canvas>/<YYYY-MM-DD>`) is of a day before yesterday at `nowMs`. */
export function isPastDayFolder(folder: string, nowMs: number): boolean {
  return path.posix.basename(folder) < localStamp(nowMs - DAY_MS).day;
}

/** Removes `folder` under `root` when it is empty and of a past day; true when it went. */
export async function removeEmptyDayFolder(root: string, folder: string, nowMs: number, log: Logger): Promise<boolean> {
  if (!isPastDayFolder(folder, nowMs)) return false;
  try {
    await rmdir(path.join(root, folder));
    return true;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST' && code !== 'ENOENT')
      log.warn({ err, folder }, `Archive: could not remove the empty folder "${folder}"`);
    return false;
  }
}
