import { renditionKey, type Fit, type ImageFormat, type RenditionSpec } from '../stream/rendition.js';
import { MAX_TILES_PER_SIDE } from '../stream/tile.js';

/**
 * The renditions other nodes' displays want of a canvas, as they wrote them to Redis: one hash
 * per canvas, field = node id, value = `{"at": ms, "specs": [RenditionSpec, ...]}`. Redis 7.0
 * cannot expire one field, so each value says when it was written and the owner drops those
 * not refreshed within the TTL (a node that died). Anything unreadable is skipped: a bad entry
 * costs a rendition, never the owner.
 */

const FORMATS: readonly ImageFormat[] = ['webp', 'jpeg', 'avif'];
const FITS: readonly Fit[] = ['inside', 'contain', 'cover', 'fill'];
/** More distinct renditions than this from one node is not screens but a fault; the rest are ignored. */
export const MAX_WANTED_PER_NODE = 32;
const MAX_VALUE_CHARS = 16 * 1024;

const int = (v: unknown, min: number, max: number): v is number => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;

/** One spec as a node wrote it, or undefined when any part of it is unusable. */
export function readSpec(v: unknown): RenditionSpec | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const s = v as Record<string, unknown>;
  if (!FORMATS.includes(s.format as ImageFormat) || !FITS.includes(s.fit as Fit)) return undefined;
  if (!int(s.width, 1, 16_384) || !int(s.height, 1, 16_384)) return undefined;
  const spec: RenditionSpec = { format: s.format as ImageFormat, width: s.width, height: s.height, fit: s.fit as Fit };
  if (s.tile === undefined) return spec;
  const t = s.tile as Record<string, unknown>;
  if (typeof t !== 'object' || t === null) return undefined;
  const side = (k: string) => int(t[k], 1, MAX_TILES_PER_SIDE);
  if (!side('columns') || !side('rows') || !side('column') || !side('row')) return undefined;
  if (!int(t.bezelPx, 0, 2000) || !int(t.tileWidth, 1, 16_384) || !int(t.tileHeight, 1, 16_384)) return undefined;
  const tile = {
    columns: t.columns as number,
    rows: t.rows as number,
    bezelPx: t.bezelPx as number,
    tileWidth: t.tileWidth as number,
    tileHeight: t.tileHeight as number,
    column: t.column as number,
    row: t.row as number,
  };
  if (tile.column > tile.columns || tile.row > tile.rows) return undefined;
  return { ...spec, tile };
}

/** The distinct specs of the live entries (not this node's own), and the nodes whose entry has run out. */
export function readWants(
  entries: Record<string, string>,
  now: number,
  ttlMs: number,
  self: string,
): { specs: RenditionSpec[]; expired: string[] } {
  const specs = new Map<string, RenditionSpec>();
  const expired: string[] = [];
  for (const [node, value] of Object.entries(entries)) {
    if (node === self || value.length > MAX_VALUE_CHARS) continue;
    let parsed: { at?: unknown; specs?: unknown };
    try {
      parsed = JSON.parse(value) as typeof parsed;
    } catch {
      continue;
    }
    if (typeof parsed !== 'object' || parsed === null || typeof parsed.at !== 'number' || !Array.isArray(parsed.specs)) continue;
    if (now - parsed.at > ttlMs) {
      expired.push(node);
      continue;
    }
    for (const v of parsed.specs.slice(0, MAX_WANTED_PER_NODE)) {
      const spec = readSpec(v);
      if (spec) specs.set(renditionKey(spec), spec);
    }
  }
  return { specs: [...specs.values()], expired };
}
