import type { GenerationFacts, PlaylistFacts } from '../archive/archive-entry.js';
import type { ErrorCode } from '../errors.js';

/**
 * The first stage of a canvas: where its images come from. A source hands out encoded
 * images one at a time; the canvas renders them ahead of their slot and the pacer shows them.
 */

/** One image as a source produced it, before any resizing or re-encoding. */
export interface SourceImage {
  /** Stable id: the same file (or generated image) always gives the same id. */
  readonly id: string;
  /** Encoded bytes in any format sharp reads. You MUST NOT mutate them: renditions are made from them later. */
  readonly data: Buffer;
  /** What made it: 'folder', 'inference', 'still', ... (sent to displays as `source`). */
  readonly source: string;
  /** When the image was made or loaded, epoch ms (sent as the frame's `timestamp`). */
  readonly createdAt: number;
  /** The prompt that made it, for generated images. */
  readonly prompt?: string;
  /** The job that asked for it, for generated images: jobs count their frames by it, not by prompt text. */
  readonly job?: string;
  /**
   * Set when these exact bytes come back again (a looping folder: path + mtime + size), so
   * renditions made once can be reused instead of re-encoded on every loop.
   */
  readonly cacheKey?: string;
  /** The file it was read from (folder and still images): proof of play names it. */
  readonly file?: string;
  /** What made a generated image beyond its prompt (seed, steps, model, endpoint...), for the archive. */
  readonly generation?: GenerationFacts;
  /** The playlist step a generated image was made for. */
  readonly playlist?: PlaylistFacts;
  /**
   * Shown again from a copy kept earlier (a held still restored after a restart or taken over
   * from another node): the archive kept it the first time and does not keep it again.
   */
  readonly restored?: boolean;
  /** Shown again from the archive (replay, "show again"): the entry it is, which the play log names. */
  readonly archiveId?: string;
}

/** What a source says about itself, in words a technician can act on. */
export interface SourceStatus {
  state: 'ok' | 'waiting' | 'degraded' | 'failed';
  /** The catalog code of the problem, when there is one. */
  code?: ErrorCode;
  /** What is wrong, when state is not 'ok'. */
  reason?: string;
  /** What to do about it. */
  hint?: string;
  /** Extra facts for the API (file counts, endpoints, ...). */
  details?: Record<string, unknown>;
}

export interface Source {
  /** 'folder', 'inference', 'playlist', 'still'. */
  readonly kind: string;
  /**
   * Resolves with the next image, waiting as long as it takes (a source with nothing new makes
   * the canvas hold). Rejects with the signal's reason when `signal` aborts. The canvas calls it
   * again only after the previous call settled.
   */
  next(signal: AbortSignal): Promise<SourceImage>;
  /**
   * Tells the source that an image it gave could not be rendered (corrupt, too many pixels),
   * so it is not offered again until it changes. Logging it is the source's job, once.
   */
  reject(image: SourceImage, err: Error): void;
  status(): SourceStatus;
  /** How many images next() could hand out without waiting, where the source knows. */
  available?(): number;
  /** Stops watching and generating; idempotent. */
  close(): Promise<void>;
}
