/**
 * Files that are either whole or absent: written to a temporary name in the same folder (the same
 * disk, so the rename is atomic) and renamed into place. A crash or `kill -9` leaves at most a
 * `*.tmp` file behind, which the archive deletes when it opens.
 */
import { rename, unlink, writeFile } from 'node:fs/promises';

let counter = 0;

/** A temporary name beside `file`, unique in this process and across processes. */
export function tempNameFor(file: string): string {
  counter = (counter + 1) % 1_000_000_000;
  return `${file}.${process.pid}-${counter}.tmp`;
}

export async function writeFileAtomic(file: string, data: string | Uint8Array): Promise<void> {
  const temp = tempNameFor(file);
  try {
    await writeFile(temp, data);
    await rename(temp, file);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}
