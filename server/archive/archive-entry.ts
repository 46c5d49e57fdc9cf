/**
 * What the archive keeps of one frame, and the store every archive module works through.
 * docs/archive.md is the contract: layout on disk, fields, limits, API.
 */

/** What made a generated image, carried on its SourceImage from the inference source. */
export interface GenerationFacts {
  negativePrompt?: string;
  seed?: number;
  steps?: number;
  strength?: number;
  guidance?: number;
  /** `model_name` from the service's GetInfo. */
  model?: string;
  /** The endpoint address that answered. */
  endpoint?: string;
}

/** The playlist step a frame was made for, where a playlist drove the canvas. */
export interface PlaylistFacts {
  name: string;
  /** 1-based position of the step in the playlist. */
  step: number;
}

/** One archived frame: the `.json` beside its image, and one line of `index.jsonl`. */
export interface ArchiveEntry extends GenerationFacts {
  /** `<canvas>.<YYYYMMDD>.<HHMMSSmmm>-<hash8>`: names its files, stable across index rebuilds. */
  id: string;
  canvas: string;
  /** The image, relative to the archive folder (`wall-1/2026-12-01/190512345-ab12cd34.png`). */
  file: string;
  mime: string;
  bytes: number;
  width: number;
  height: number;
  /** 'inference' or 'upload'. */
  source: string;
  prompt?: string;
  job?: string;
  playlist?: PlaylistFacts;
  /** ISO-8601: when the image was generated or uploaded. */
  madeAt: string;
  /** ISO-8601: when it first went on screen (presentAt, else its slot time). */
  shownAt: string;
  seq: number;
  /** Displays of the canvas when it was first shown. */
  displays: number;
  starred: boolean;
}

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
