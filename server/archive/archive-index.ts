/**
 * The archive's entries in memory, sorted by `madeAt` then id, with the filters and cursor paging
 * of `GET /api/archive`. A cursor is the sort key of the last entry given out, so a page after it
 * neither repeats nor skips an entry when new frames are written meanwhile.
 */
import { EaselError } from '../errors.js';
import type { ArchiveEntry, ArchivePage, ArchiveQuery } from './archive-entry.js';

interface Row {
  t: number;
  id: string;
  /** The prompt lowercased once, for text filters. */
  prompt: string;
  entry: ArchiveEntry;
}

type Key = { t: number; id: string };

const compare = (a: Key, b: Key): number => a.t - b.t || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

const rowOf = (entry: ArchiveEntry): Row => ({
  t: Date.parse(entry.madeAt),
  id: entry.id,
  prompt: (entry.prompt ?? '').toLowerCase(),
  entry,
});

export function encodeCursor(key: Key): string {
  return Buffer.from(`${key.t}:${key.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): Key {
  const text = cursor.length <= 200 ? Buffer.from(cursor, 'base64url').toString('utf8') : '';
  const m = /^(-?\d{1,16}):(\S{1,100})$/.exec(text);
  if (!m) {
    throw new EaselError('EASEL_ERR_REQUEST_INVALID', 'Invalid "cursor": it is not one this server gave out', {
      hint: 'Pass back the "next" value of the previous page unchanged, or leave cursor out for the first page',
      details: { field: 'cursor' },
    });
  }
  return { t: Number(m[1]), id: m[2]! };
}

export class ArchiveIndex {
  /** Oldest first: new frames are appended at the end, retention takes from the start. */
  private rows: Row[] = [];
  private byId = new Map<string, Row>();
  private totalBytes = 0;
  private starredCount = 0;

  get size(): number {
    return this.rows.length;
  }

  get bytes(): number {
    return this.totalBytes;
  }

  get starred(): number {
    return this.starredCount;
  }

  get(id: string): ArchiveEntry | undefined {
    return this.byId.get(id)?.entry;
  }

  /** Adds many entries at once (opening): one sort instead of an insertion each. */
  putAll(entries: Iterable<ArchiveEntry>): void {
    if (this.rows.length > 0) {
      for (const entry of entries) this.put(entry);
      return;
    }
    for (const entry of entries) {
      if (this.byId.has(entry.id)) continue; // ids name files: no two entries share one
      const row = rowOf(entry);
      this.rows.push(row);
      this.byId.set(row.id, row);
      this.count(entry, 1);
    }
    this.rows.sort(compare);
  }

  /** Adds an entry, or replaces the one with its id. */
  put(entry: ArchiveEntry): void {
    this.delete(entry.id);
    const row = rowOf(entry);
    const last = this.rows[this.rows.length - 1];
    if (!last || compare(last, row) < 0) this.rows.push(row);
    else this.rows.splice(this.lowerBound(row), 0, row);
    this.byId.set(row.id, row);
    this.count(entry, 1);
  }

  delete(id: string): ArchiveEntry | undefined {
    const row = this.byId.get(id);
    if (!row) return undefined;
    const at = this.lowerBound(row);
    this.rows.splice(at, 1);
    this.byId.delete(id);
    this.count(row.entry, -1);
    return row.entry;
  }

  /** Removes many entries: one pass over the rows instead of a splice each (retention of a backlog). */
  deleteAll(ids: readonly string[]): void {
    if (ids.length < 16) {
      for (const id of ids) this.delete(id);
      return;
    }
    const gone = new Set<string>();
    for (const id of ids) {
      const row = this.byId.get(id);
      if (!row) continue;
      gone.add(id);
      this.byId.delete(id);
      this.count(row.entry, -1);
    }
    this.rows = this.rows.filter((r) => !gone.has(r.id));
  }

  private count(entry: ArchiveEntry, sign: 1 | -1): void {
    this.totalBytes += sign * entry.bytes;
    if (entry.starred) this.starredCount += sign;
  }

  /** Every entry, oldest first, lazily: the index must not change while this is iterated. */
  *oldestFirst(): IterableIterator<ArchiveEntry> {
    for (const row of this.rows) yield row.entry;
  }

  /** Every entry, oldest first, as they are now (to write the index file while writes go on). */
  snapshot(): ArchiveEntry[] {
    return this.rows.map((r) => r.entry);
  }

  /** Entries matching `query`, newest first, after `cursor`; `next` is null on the last page. */
  page(query: ArchiveQuery, limit: number, cursor?: string): ArchivePage {
    const words = (query.text ?? '').toLowerCase().split(/\s+/).filter(Boolean);
    let start = this.rows.length - 1;
    if (cursor !== undefined) start = Math.min(start, this.lowerBound(decodeCursor(cursor)) - 1);
    if (query.to !== undefined) start = Math.min(start, this.lowerBound({ t: query.to, id: '' }) - 1);
    const from = query.from ?? Number.NEGATIVE_INFINITY;
    const items: ArchiveEntry[] = [];
    let more = false;
    for (let i = start; i >= 0; i--) {
      const row = this.rows[i]!;
      if (row.t < from) break;
      if (query.canvas !== undefined && row.entry.canvas !== query.canvas) continue;
      if (query.starred !== undefined && row.entry.starred !== query.starred) continue;
      if (words.length > 0 && !words.every((w) => row.prompt.includes(w))) continue;
      if (items.length === limit) {
        more = true;
        break;
      }
      items.push(row.entry);
    }
    const last = items[items.length - 1];
    return { items, next: more && last ? encodeCursor({ t: Date.parse(last.madeAt), id: last.id }) : null };
  }

  /** Index of the first row not before `key`. */
  private lowerBound(key: Key): number {
    let lo = 0;
    let hi = this.rows.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compare(this.rows[mid]!, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
