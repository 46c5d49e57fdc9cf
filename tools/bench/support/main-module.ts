import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

/** Whether the module at `url` is the program being run (`tsx that-file.ts`), not an import. */
export function isMain(url: string): boolean {
  try {
    return process.argv[1] !== undefined && url === pathToFileURL(realpathSync(process.argv[1])).href;
  } catch {
    return false;
  }
}

/** Epoch milliseconds with sub-millisecond resolution, on the same clock as the server's pacer. */
export const epochNow = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
