/**
 * What the archive keeps of one frame, and the store every archive module works through.
 * docs/archive.md is the contract: layout on disk, fields, limits, API.
 */

import type { ArchiveEntry } from '../../protocol/archive-entry.js';

export type { ArchiveEntry, GenerationFacts, PlaylistFacts } from '../../protocol/archive-entry.js';

/** Filters of `GET /api/archive` and the export; every one optional. */
export interface ArchiveQuery {
  canvas?: string;
  /** Epoch ms, inclusive, on `madeAt`. */
  from?: number;
  /** Epoch ms, exclusive, on `madeAt`. */
  to?: number;
  /** Words the prompt must all contain, case-insensitive. */
  text?: string;
  starred?: boolean;
}

export interface ArchivePage {
  /** Newest first. */
  items: ArchiveEntry[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  next: string | null;
}

/** A frame to keep, as the recorder hands it to the store. */
export interface ArchiveWrite {
  canvas: string;
  data: Buffer;
  meta: Omit<ArchiveEntry, 'id' | 'file' | 'mime' | 'bytes' | 'width' | 'height' | 'starred'>;
}

export interface ArchiveStats {
  entries: number;
  /** Total bytes of the kept images. */
  bytes: number;
  starred: number;
  /** Below the free-space floor (`archive.minFreeMb`): writes are refused until there is room. */
  paused: boolean;
}

export interface ArchiveStore {
  /** The archive folder (absolute). */
  readonly dir: string;
  /** Reads (or rebuilds) the index and cleans left-over temporary files; call once before anything else. */
  open(): Promise<void>;
  /**
   * Writes image then metadata (temp + rename); resolves with the entry once both are in place
   * (and retention has run). Rejects with EASEL_ERR_ARCHIVE_PAUSED below the free-space floor,
   * EASEL_ERR_IMAGE_UNREADABLE / EASEL_ERR_UNSUPPORTED_MEDIA for bytes that are not a kept image.
   */
  write(frame: ArchiveWrite): Promise<ArchiveEntry>;
  list(query: ArchiveQuery, limit: number, cursor?: string): ArchivePage;
  /** Every entry matching, newest first, lazily (export, time-lapse, replay). */
  select(query: ArchiveQuery): Iterable<ArchiveEntry>;
  get(id: string): ArchiveEntry | undefined;
  /** Absolute path of an entry's image. */
  imagePath(entry: ArchiveEntry): string;
  setStarred(id: string, starred: boolean): Promise<ArchiveEntry | undefined>;
  /** False when there was no such entry. */
  remove(id: string): Promise<boolean>;
  stats(): ArchiveStats;
  close(): Promise<void>;
}
