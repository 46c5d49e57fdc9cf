import type { TransitionKind } from '../../protocol/wire.js';
import { readTileParam } from './wall-grid.js';

/** A canvas slug as docs/protocol.md fixes it (the same pattern as server/canvas/slug.ts). */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export type Fit = 'contain' | 'cover';

export const DEFAULT_WALL_SLUGS = ['left-canva', 'right-canva'] as const;
/** More tiles than this on one screen are each too small to be worth a socket. */
export const MAX_WALL_SLUGS = 16;

/** What a display page's query string may set; anything left out keeps the element's default. */
export interface PageOptions {
  fit?: Fit;
  /** Left out: the canvas's own setting from the server's hello, else a cut. */
  transition?: TransitionKind;
  transitionMs?: number;
  placeholder?: string;
  showTime: boolean;
  showLabel: boolean;
  accept?: string;
  /** `?tile=2,1`: this screen is column 2, row 1 of its canvas's wall. */
  tile?: string;
}

const OFF = new Set(['0', 'false', 'off', 'no']);

/** `?time=0` hides, `?label=1` shows: an absent flag keeps its default, an empty one (`?label`) means on. */
export function readFlag(value: string | null | undefined, fallback: boolean): boolean {
  if (value === null || value === undefined) return fallback;
  return !OFF.has(value.trim().toLowerCase());
}

/**
 * Reads the display options of a page URL. A value that makes no sense is left out rather than
 * refused: a wall display has nobody in front of it to read an error.
 *
 * @example
 * parsePageOptions('?transition=crossfade&transitionMs=400&time=0')
 * // { transition: 'crossfade', transitionMs: 400, showTime: false, showLabel: false }
 */
export function parsePageOptions(search: string): PageOptions {
  const q = new URLSearchParams(search);
  const options: PageOptions = { showTime: readFlag(q.get('time'), true), showLabel: readFlag(q.get('label'), false) };
  const fit = q.get('fit');
  if (fit === 'contain' || fit === 'cover') options.fit = fit;
  const transition = q.get('transition');
  if (transition === 'cut' || transition === 'crossfade') options.transition = transition;
  const ms = Number(q.get('transitionMs') ?? q.get('transition-ms') ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) options.transitionMs = Math.min(ms, 10_000);
  const placeholder = q.get('placeholder');
  if (placeholder) options.placeholder = placeholder;
  const accept = q.get('accept');
  if (accept && /^[a-z,\s]{1,64}$/i.test(accept)) options.accept = accept;
  const tile = readTileParam(q.get('tile'));
  if (tile) options.tile = tile;
  return options;
}

/** The slug of a `/c/:slug` path (or `?slug=` when the page is opened as c.html in dev). */
export function slugFromLocation(pathname: string, search: string): string | undefined {
  const fromPath = /^\/c\/([^/]+)\/?$/.exec(pathname)?.[1];
  const raw = fromPath !== undefined ? safeDecode(fromPath) : (new URLSearchParams(search).get('slug') ?? '');
  return SLUG_PATTERN.test(raw) ? raw : undefined;
}

/** `?slugs=a,b` for /wall: valid slugs only, each once, in order; the default pair when none is usable. */
export function wallSlugs(search: string): string[] {
  const raw = new URLSearchParams(search).get('slugs') ?? '';
  const slugs = [
    ...new Set(
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => SLUG_PATTERN.test(s)),
    ),
  ].slice(0, MAX_WALL_SLUGS);
  return slugs.length > 0 ? slugs : [...DEFAULT_WALL_SLUGS];
}

/** `?grid=lobby` for /wall: the canvas whose wall of tiles to preview; undefined when absent or not a slug. */
export function wallGrid(search: string): string | undefined {
  const slug = new URLSearchParams(search).get('grid')?.trim() ?? '';
  return SLUG_PATTERN.test(slug) ? slug : undefined;
}

/**
 * Columns for `count` tiles on a `width` x `height` screen: the choice that gives each
 * (square-ish) tile the largest side, so two canvases sit side by side on a landscape screen
 * and one above the other on a portrait one.
 */
export function wallColumns(count: number, width: number, height: number): number {
  if (count <= 1 || width <= 0 || height <= 0) return 1;
  let best = 1;
  let bestSide = 0;
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const side = Math.min(width / cols, height / rows);
    if (side > bestSide + 0.5) {
      best = cols;
      bestSide = side;
    }
  }
  return best;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return '';
  }
}
