/**
 * The rule of every field a person types, checked the same way whichever way it arrives: the
 * config file and EASEL_* variables, the HTTP API (and the CLI through it), OSC, playlist files.
 * Each rule is a zod schema plus the phrase that says what it allows and a hint; the surfaces
 * only frame the message their own way (a config key path, a problem+json `field`, a playlist
 * line and column). shapes.ts builds the inputs from these fields.
 */
import { z } from 'zod';
import { MAX_FPS, MIN_FPS } from '../stream/pacer.js';
import type { Fit, ImageFormat } from '../stream/rendition.js';
import { MAX_BEZEL_PX, MAX_TILES_PER_SIDE } from '../stream/tile.js';

/** Longest prompt or negative prompt, in characters. */
export const MAX_PROMPT = 2000;
/**
 * Inference steps: 0 asks for the service's default (the wire's meaning of 0). 50 is more than any
 * SDXL model needs; the service's own range (GetInfo, SDXL-Turbo 1-4) narrows it when a prompt is sent.
 */
export const MAX_STEPS = 50;
/** A lead past this is a misconfiguration: a frame would wait seconds for its screen time. */
export const MAX_LEAD_MS = 5000;
/**
 * Seeds are uint64 on the wire, but Easel carries them as JavaScript numbers, exact to 2^53 - 1;
 * the service picks its own seeds below 2^53 too, so any seed it reports can be sent back.
 */
export const MAX_SEED = Number.MAX_SAFE_INTEGER;
export const FITS = ['inside', 'contain', 'cover', 'fill'] as const satisfies readonly Fit[];
export const FORMATS = ['webp', 'jpeg', 'avif'] as const satisfies readonly ImageFormat[];
export const ORDERS = ['name', 'shuffle'] as const;

export interface Rule {
  /** What is allowed, to end "must be …" or "expected …": `a whole number from 0 to 50`. */
  expected: string;
  hint: string;
}

/**
 * What a schema's issues say: the phrase naming what is allowed, except for text that is too
 * long, where a whole predicate says more (`is 2001 characters long, the most is 2000`).
 * problems.ts frames both; `isPredicate` tells them apart by the issue, not by the text.
 */
export function fieldError(expected: string, maxChars?: number): z.core.$ZodErrorMap {
  return (issue) =>
    maxChars !== undefined && isPredicate(issue) ? `is ${String(issue.input).length} characters long, the most is ${maxChars}` : expected;
}

/** True for an issue whose message is a whole predicate rather than an `expected` phrase. */
export const isPredicate = (issue: { code?: string; origin?: string }): boolean => issue.code === 'too_big' && issue.origin === 'string';

const whole = (min: number, max: number, expected: string) => {
  const error = fieldError(expected);
  return z.number({ error }).int({ error }).min(min, { error }).max(max, { error });
};
const between = (min: number, max: number, expected: string) => {
  const error = fieldError(expected);
  return z.number({ error }).min(min, { error }).max(max, { error });
};
const text = (expected: string, options: { max: number; blank: boolean }) => {
  const error = fieldError(expected, options.max);
  const s = z.string({ error }).max(options.max, { error });
  return options.blank ? s : s.refine((v) => v.trim() !== '', { error });
};
const oneOf = <T extends readonly [string, ...string[]]>(values: T, expected: string) => z.enum(values, { error: fieldError(expected) });

/** The rules by field name: a field means the same wherever it appears. */
export const RULES = {
  prompt: { expected: 'text', hint: `Write the text to generate from, 1 to ${MAX_PROMPT.toLocaleString('en')} characters` },
  negativePrompt: {
    expected: 'text',
    hint: `Describe what the images should not show, at most ${MAX_PROMPT.toLocaleString('en')} characters, or leave it out`,
  },
  seed: {
    expected: `a whole number from 0 to ${MAX_SEED}`,
    hint: 'Leave it out for random seeds; the same seed makes the same image again',
  },
  steps: {
    expected: `a whole number from 0 (the service default) to ${MAX_STEPS}`,
    hint: 'Leave it out or use 0 for the service default; SDXL-Turbo takes 1-4',
  },
  drift: { expected: 'a strength from 0 (off) to 1', hint: 'Use 0.2-0.5 for a slow drift, or 0 for none' },
  count: { expected: 'a whole number from 1 to 100', hint: 'Leave it out for 4' },
  seedWalk: { expected: 'true or false', hint: 'Write seedWalk: true to move each pass on to new seeds' },
  order: { expected: '"name" or "shuffle"', hint: 'Use order name (file name order) or shuffle (a new order every loop)' },
  path: { expected: 'a path on the server', hint: 'Send an absolute path, e.g. {"path": "/srv/art"}; it is read on the Easel server' },
  fallback: { expected: 'a folder path, or "" to hold the last frames', hint: 'Name a folder of images to show while the service is down' },
  name: { expected: 'the name of a playlist', hint: 'Send {"name": "evening-show"}' },
  type: { expected: 'a source type', hint: 'Send {"type": "folder", "path": "/srv/art"}' },
  fps: { expected: `a number from ${MIN_FPS} to ${MAX_FPS}`, hint: 'Displays are paced at 4 FPS unless told otherwise' },
  width: { expected: 'a whole number from 16 to 8192', hint: 'Give the size in pixels' },
  height: { expected: 'a whole number from 16 to 8192', hint: 'Give the size in pixels' },
  fit: { expected: `one of ${FITS.join(', ')}`, hint: 'inside shows the whole image without padding' },
  columns: { expected: `a whole number from 1 to ${MAX_TILES_PER_SIDE}`, hint: 'Count the screens across the wall' },
  rows: { expected: `a whole number from 1 to ${MAX_TILES_PER_SIDE}`, hint: 'Count the screens down the wall' },
  bezelPx: {
    expected: `a whole number from 0 to ${MAX_BEZEL_PX}`,
    hint: 'Measure the gap between two screens and give it in screen pixels, or 0 for none',
  },
  tileWidth: {
    expected: 'a whole number from 16 to 8192',
    hint: "Give one screen's width in pixels, or leave it out for the canvas width",
  },
  tileHeight: {
    expected: 'a whole number from 16 to 8192',
    hint: "Give one screen's height in pixels, or leave it out for the canvas height",
  },
  tiles: { expected: 'an object like {"columns": 2, "rows": 1}', hint: 'Give the grid of screens: columns, rows, and optionally bezelPx' },
  formats: { expected: `a non-empty list drawn from ${FORMATS.join(', ')}`, hint: 'For example ["webp", "jpeg"]' },
  sync: { expected: 'true or false', hint: 'Leave it on so screens of the canvas change together; false shows each frame on arrival' },
  leadMs: {
    expected: `a whole number from 0 to ${MAX_LEAD_MS}`,
    hint: 'How long before its screen time a frame is sent; 300 covers fan-out and decoding on a busy box',
  },
  archive: { expected: 'true or false', hint: 'false keeps the canvas out of the archive and the proof-of-play log (docs/archive.md)' },
} as const satisfies Record<string, Rule>;

export type FieldName = keyof typeof RULES;
/** The rule a field follows; a field outside the table gets a plain one. */
export const ruleOf = (field: PropertyKey | undefined): Rule =>
  (RULES as Record<PropertyKey, Rule>)[field ?? ''] ?? { expected: 'a value of the right kind', hint: 'README.md lists every field' };

/** The field schemas, by the same names. */
export const fields = {
  prompt: text(RULES.prompt.expected, { max: MAX_PROMPT, blank: false }),
  negativePrompt: text(RULES.negativePrompt.expected, { max: MAX_PROMPT, blank: true }),
  seed: whole(0, MAX_SEED, RULES.seed.expected),
  steps: whole(0, MAX_STEPS, RULES.steps.expected),
  drift: between(0, 1, RULES.drift.expected),
  count: whole(1, 100, RULES.count.expected),
  seedWalk: z.boolean({ error: fieldError(RULES.seedWalk.expected) }),
  order: oneOf(ORDERS, RULES.order.expected),
  path: text(RULES.path.expected, { max: 4096, blank: false }),
  fallback: z.string({ error: fieldError(RULES.fallback.expected) }),
  name: text(RULES.name.expected, { max: 255, blank: false }),
  fps: between(MIN_FPS, MAX_FPS, RULES.fps.expected),
  width: whole(16, 8192, RULES.width.expected),
  height: whole(16, 8192, RULES.height.expected),
  fit: oneOf(FITS, RULES.fit.expected),
  columns: whole(1, MAX_TILES_PER_SIDE, RULES.columns.expected),
  rows: whole(1, MAX_TILES_PER_SIDE, RULES.rows.expected),
  bezelPx: whole(0, MAX_BEZEL_PX, RULES.bezelPx.expected),
  tileWidth: whole(16, 8192, RULES.tileWidth.expected),
  tileHeight: whole(16, 8192, RULES.tileHeight.expected),
  formats: z
    .array(oneOf(FORMATS, RULES.formats.expected), { error: fieldError(RULES.formats.expected) })
    .min(1, { error: fieldError(RULES.formats.expected) }),
  sync: z.boolean({ error: fieldError(RULES.sync.expected) }),
  leadMs: whole(0, MAX_LEAD_MS, RULES.leadMs.expected),
  archive: z.boolean({ error: fieldError(RULES.archive.expected) }),
} satisfies Partial<Record<FieldName, z.ZodType>>;
