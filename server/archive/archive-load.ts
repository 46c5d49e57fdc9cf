/**
 * Opening an archive: which entries it holds, from `index.jsonl` where that agrees with the
 * folders, from the `.json` files where it does not (or is missing or unreadable), after the
 * clean-up a crash calls for. The folders are listed (no file read) every time, so entries added
 * or deleted behind the index's back are noticed.
 */
import { readFileSync } from 'node:fs';
import { mkdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { ArchiveEntry } from './archive-entry.js';
import { isArchiveEntry, readIndexFile } from './archive-index-file.js';
import { scanArchive } from './archive-scan.js';
import { removeEmptyDayFolder } from './day-folders.js';

export interface LoadedArchive {
  entries: ArchiveEntry[];
  /** index.jsonl says exactly `entries`, one line each: it need not be rewritten. */
  indexExact: boolean;
  /** Lines of index.jsonl as found. */
  indexLines: number;
}

export async function loadArchive(dir: string, indexFile: string, log: Logger, readOnly: boolean, nowMs: number): Promise<LoadedArchive> {
  const started = performance.now();
  if (!readOnly) await mkdir(dir, { recursive: true });
  const scan = await scanArchive(dir, { deleteTemp: !readOnly });
  if (scan.tempFiles > 0) log.info({ files: scan.tempFiles }, `Archive: deleted ${scan.tempFiles} left-over temporary files`);
  // Left by retention before it removed emptied folders itself, or by a person deleting files.
  if (!readOnly) for (const folder of scan.emptyFolders) await removeEmptyDayFolder(dir, folder, nowMs, log);
  for (const o of scan.orphanImages) {
    log.warn({ slug: o.canvas, file: o.file }, `Archive: image "${o.file}" has no metadata; it is left alone and not listed`);
  }
  const onDisk = scan.entries;
  for (const s of onDisk.values()) {
    if (s.image !== undefined) continue;
    onDisk.delete(s.id);
    // Only a removal cut short (image deleted, metadata not yet) or a person leaves this.
    log.warn({ slug: s.canvas, file: s.metaFile }, `Archive: "${s.metaFile}" has no image; the entry is dropped`);
    if (!readOnly) await unlink(path.join(dir, s.metaFile)).catch(() => undefined);
  }
  const cached = await readIndexFile(indexFile);
  const entries: ArchiveEntry[] = [];
  const toRead: string[] = [];
  for (const [id, s] of onDisk) {
    const entry = cached?.entries.get(id);
    if (entry && entry.file === s.image && !cached?.changed.has(id)) entries.push(entry);
    else toRead.push(id);
  }
  for (let i = 0; i < toRead.length; i++) {
    if (i % 200 === 199) await new Promise((resolve) => setImmediate(resolve));
    const e = readEntry(dir, toRead[i]!, onDisk.get(toRead[i]!)!.metaFile, log);
    if (e && e.file === onDisk.get(e.id)!.image) entries.push(e);
  }
  const ms = Math.round(performance.now() - started);
  if (!cached) log.info({ entries: entries.length, ms }, `Archive index rebuilt from the metadata files: ${entries.length} entries`);
  else if (toRead.length > 0 || cached.entries.size !== entries.length) {
    log.info(
      { entries: entries.length, read: toRead.length, ms },
      `Archive index brought in step with the folder: ${entries.length} entries`,
    );
  }
  const indexExact =
    cached !== undefined && toRead.length === 0 && cached.entries.size === entries.length && cached.lines === entries.length;
  return { entries, indexExact, indexLines: cached?.lines ?? 0 };
}

/**
 * An entry's `.json`, read synchronously: a thread-pool `readFile` per small file is several
 * times slower, and the caller yields to the event loop between batches.
 */
function readEntry(dir: string, id: string, metaFile: string, log: Logger): ArchiveEntry | undefined {
  try {
    const v: unknown = JSON.parse(readFileSync(path.join(dir, metaFile), 'utf8'));
    if (isArchiveEntry(v) && v.id === id) return v;
  } catch {
    // reported below
  }
  log.warn({ file: metaFile }, `Archive: "${metaFile}" is not valid entry metadata; its entry is left out`);
  return undefined;
}
