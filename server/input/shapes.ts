/**
 * One schema per input shape, built from the field rules, and the TypeScript types derived from
 * them: what the API, OSC, playlists and the config accept is what these say.
 */
import { z } from 'zod';
import { fieldError, fields, RULES } from './fields.js';

/** A new prompt: POST /api/canvases/:slug/prompt, an OSC prompt, a playlist prompt step. */
export const promptCommand = z.object({
  prompt: fields.prompt,
  negativePrompt: fields.negativePrompt.optional(),
  /** First seed of a walk (reproducible); absent = random seeds. */
  seed: fields.seed.optional(),
  /** Inference steps; absent or 0 = the service default. */
  steps: fields.steps.optional(),
  /** img2img drift strength 0-1; absent = the canvas's setting. */
  drift: fields.drift.optional(),
  /** How many frames the job reports progress for; generation then goes on with this prompt. */
  count: fields.count.optional(),
});
export type PromptCommand = z.infer<typeof promptCommand>;

/** The fields of a playlist's prompt step (its hold is the playlist's own). */
export const promptStepFields = promptCommand.omit({ count: true }).extend({ seedWalk: fields.seedWalk.optional() });
/** The fields of a playlist's folder step besides its (relative) folder. */
export const folderStepFields = z.object({ order: fields.order.optional() });

/** A source as it runs, every blank filled: what the config resolves a canvas to. */
export const folderSource = z.object({ type: z.literal('folder'), path: fields.path, order: fields.order });
export const inferenceSource = z.object({
  type: z.literal('inference'),
  prompt: fields.prompt,
  negativePrompt: fields.negativePrompt,
  /** 0 = the service's default. */
  steps: fields.steps,
  /** First seed of a walk; absent = a random seed per image. */
  seed: fields.seed.optional(),
  /** img2img drift strength, 0 = off. */
  drift: fields.drift,
  /** Folder shown while the service cannot generate; '' = hold the last frames. */
  fallback: fields.fallback,
});
export type FolderSourceConfig = z.infer<typeof folderSource>;
export type InferenceSourceConfig = z.infer<typeof inferenceSource>;
export type SourceConfig = FolderSourceConfig | InferenceSourceConfig;

/** PUT /api/canvases/:slug/source. */
export const sourceCommand = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('folder'), path: fields.path, order: fields.order.optional() }),
    inferenceSource.omit({ fallback: true }).partial().required({ type: true }),
    z.object({ type: z.literal('still'), path: fields.path }),
    z.object({ type: z.literal('playlist'), name: fields.name }),
  ],
  { error: fieldError('one of folder, inference, still, playlist') },
);
export type SourceCommand = z.infer<typeof sourceCommand>;

/** POST /api/canvases/:slug/playlist. */
export const playlistCommand = z.object({ name: fields.name });

export const SOURCE_TYPES = ['folder', 'inference'] as const;
/** A canvas's source in the config: any field may be left to `canvasDefaults.source`. */
export const sourceDeclaration = z.strictObject(
  {
    type: z.enum(SOURCE_TYPES, { error: fieldError(`one of ${SOURCE_TYPES.join(', ')}`) }).optional(),
    ...folderSource.omit({ type: true }).partial().shape,
    ...inferenceSource.omit({ type: true }).partial().shape,
  },
  { error: fieldError('an object like {"type": "folder", "path": "assets"}') },
);

/** A tiled wall in the config: the grid is required, the bezel and the screen size are not. */
export const tilesDeclaration = z.strictObject(
  {
    columns: fields.columns,
    rows: fields.rows,
    bezelPx: fields.bezelPx.optional(),
    tileWidth: fields.tileWidth.optional(),
    tileHeight: fields.tileHeight.optional(),
  },
  { error: fieldError(RULES.tiles.expected) },
);
export type TilesDeclaration = z.infer<typeof tilesDeclaration>;

/** A canvas in the config: only the slug is required, the rest comes from `canvasDefaults`. */
export const canvasDeclaration = z.strictObject(
  {
    /** Checked by parseSlug, which says what is wrong in its own words. */
    slug: z.string(),
    source: sourceDeclaration.optional(),
    fps: fields.fps.optional(),
    width: fields.width.optional(),
    height: fields.height.optional(),
    fit: fields.fit.optional(),
    formats: fields.formats.optional(),
    sync: fields.sync.optional(),
    leadMs: fields.leadMs.optional(),
    /** A wall of screens, each showing its part of the frame (server/stream/tile.ts). */
    tiles: tilesDeclaration.optional(),
    /** false: the canvas is neither archived nor in the proof-of-play log (docs/archive.md). */
    archive: fields.archive.optional(),
  },
  { error: fieldError('an object with at least a "slug"') },
);
export type CanvasDeclaration = z.infer<typeof canvasDeclaration>;
