/**
 * One archived frame as the archive keeps it and `GET /api/archive` answers it: shared by the
 * server and the gallery page, so the two cannot drift. docs/archive.md is the contract.
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
