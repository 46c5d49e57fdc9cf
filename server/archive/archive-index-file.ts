/**
 * `index.jsonl`: a cache of every entry's metadata, so opening a large archive reads one file
 * instead of one `.json` per frame. A line is a whole entry (last one wins), a star change or a
 * removal; the file is appended to as the archive changes and rewritten whole (temp + rename) when
 * the changes outgrow the entries. The `.json` files are the truth: a missing, unreadable or
 * invalid index is rebuilt from them.
 */
import { type FileHandle, open, readFile, rename, unlink } from 'node:fs/promises';
import type { ArchiveEntry } from './archive-entry.js';
import { tempNameFor } from './atomic-file.js';

export type IndexLine = ArchiveEntry | { op: 'star'; id: string; starred: boolean } | { op: 'remove'; id: string };

export interface IndexContents {
  entries: Map<string, ArchiveEntry>;
  /** Ids whose star was changed by an appended line: checked against their `.json` on open. */
  changed: Set<string>;
  lines: number;
}

const isString = (v: unknown): v is string => typeof v === 'string';
const isNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Whether `v` has the fields every entry has, with their types: what the index and lists rely on. */
export function isArchiveEntry(v: unknown): v is ArchiveEntry {
  if (typeof v !== 'object' || v === null) return false;
  const e = v as Record<string, unknown>;
  return (
    isString(e.id) &&
    isString(e.canvas) &&
    isString(e.file) &&
    isString(e.mime) &&
    isNumber(e.bytes) &&
    isNumber(e.width) &&
    isNumber(e.height) &&
    isString(e.source) &&
    isString(e.madeAt) &&
    !Number.isNaN(Date.parse(e.madeAt)) &&
    isString(e.shownAt) &&
    isNumber(e.seq) &&
    isNumber(e.displays) &&
    typeof e.starred === 'boolean' &&
    (e.prompt === undefined || isString(e.prompt))
  );
}

/** The index as the file says, or undefined when it is missing or any line is unreadable. */
export async function readIndexFile(file: string): Promise<IndexContents | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return undefined;
  }
  const entries = new Map<string, ArchiveEntry>();
  const changed = new Set<string>();
  let lines = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    // A 100,000-entry index takes about a second to parse: the event loop gets turns meanwhile.
    if (++lines % 2000 === 0) await new Promise((resolve) => setImmediate(resolve));
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      return undefined;
    }
    const op = (v as { op?: unknown } | null)?.op;
    const id = (v as { id?: unknown } | null)?.id;
    if (op === 'remove' && isString(id)) {
      entries.delete(id);
      changed.delete(id);
    } else if (op === 'star' && isString(id) && typeof (v as { starred?: unknown }).starred === 'boolean') {
      const entry = entries.get(id);
      if (entry) entries.set(id, { ...entry, starred: (v as { starred: boolean }).starred });
      changed.add(id);
    } else if (op === undefined && isArchiveEntry(v)) {
      entries.set(v.id, v);
    } else {
      return undefined;
    }
  }
  if (text !== '' && !text.endsWith('\n')) return undefined; // cut short mid-line
  return { entries, changed, lines };
}

/** Replaces the index with exactly `entries`, atomically. */
export async function writeIndexFile(file: string, entries: readonly ArchiveEntry[]): Promise<void> {
  const temp = tempNameFor(file);
  let fh: FileHandle | undefined;
  try {
    fh = await open(temp, 'w');
    // In chunks: a 100,000-entry index is tens of megabytes, too much for one string.
    for (let i = 0; i < entries.length; i += 2000) {
      await fh.write(
        `${entries
          .slice(i, i + 2000)
          .map((e) => `${JSON.stringify(e)}\n`)
          .join('')}`,
      );
    }
    await fh.close();
    fh = undefined;
    await rename(temp, file);
  } catch (err) {
    await fh?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

/** Appends lines to the index; `close()` before the file is replaced (the next append reopens it). */
export class IndexAppender {
  private fh: FileHandle | undefined;

  constructor(private readonly file: string) {}

  async append(lines: readonly IndexLine[]): Promise<void> {
    this.fh ??= await open(this.file, 'a');
    // One write per call: a line is never split between two writes, so a kill leaves whole lines.
    await this.fh.write(lines.map((l) => `${JSON.stringify(l)}\n`).join(''));
  }

  async close(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }
}
