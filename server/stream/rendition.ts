/**
 * A rendition is one encoded form of a frame: a format and a pixel box. Displays with similar
 * screens share one, so a canvas encodes each frame a handful of times, never once per display.
 */
import { tileKey, type TileGrid, type TilePosition, type TileSpec } from './tile.js';

export type ImageFormat = 'webp' | 'jpeg' | 'avif';
export type Fit = 'inside' | 'contain' | 'cover' | 'fill';

export const MIME: Record<ImageFormat, string> = {
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  avif: 'image/avif',
};

export interface RenditionSpec {
  format: ImageFormat;
  /** The box the image is resized into, with the canvas's fit; never enlarged past the source. */
  width: number;
  height: number;
  fit: Fit;
  /** A tile of a wall: the crop of the frame this screen shows, fitted into the box above. */
  tile?: TileSpec;
}

export function renditionKey(spec: RenditionSpec): string {
  const key = `${spec.format}:${spec.width}x${spec.height}:${spec.fit}`;
  return spec.tile ? `${key}:${tileKey(spec.tile)}` : key;
}

/** Long-edge steps a display's screen is rounded up to, so similar screens share a rendition. */
export const LONG_EDGE_STEPS = [480, 640, 960, 1280, 1920, 2560, 3840] as const;

export interface CanvasBox {
  width: number;
  height: number;
  fit: Fit;
  formats: readonly ImageFormat[];
  /** Set for a tiled wall: the grid its tiles are cut from. */
  tiles?: TileGrid | undefined;
}

export interface DisplayWants {
  mode: 'binary' | 'json';
  /** Formats in order of preference, from `accept`. Empty means the default for the mode. */
  accept: readonly string[];
  /** Viewport in CSS pixels and device pixel ratio, when the display said. */
  viewport?: { w: number; h: number; dpr: number } | undefined;
  /** The tile of the canvas's wall this display is, checked against the grid at the upgrade. */
  tile?: TilePosition | undefined;
}

/**
 * Picks the rendition for a display: the format it prefers among those the canvas offers (JPEG
 * by default in JSON mode, the canvas's first format otherwise), and the canvas box scaled down
 * to the display's long edge rounded up to a step, never up past the canvas's own size.
 */
export function chooseRendition(canvas: CanvasBox, wants: DisplayWants): RenditionSpec {
  const grid = canvas.tiles;
  const tile = grid && wants.tile ? { ...grid, ...wants.tile } : undefined;
  // A tile's box is one screen of the wall; the viewport steps then apply to it as to a canvas.
  const box = tile ? { width: tile.tileWidth, height: tile.tileHeight } : canvas;
  const offered: readonly ImageFormat[] = canvas.formats.length > 0 ? canvas.formats : ['jpeg'];
  const preferred = wants.accept.find((f): f is ImageFormat => offered.includes(f as ImageFormat));
  const fallback = wants.mode === 'json' && offered.includes('jpeg') ? 'jpeg' : offered[0]!;
  const format = preferred ?? fallback;

  let scale = 1;
  const v = wants.viewport;
  if (v) {
    const wanted = Math.max(v.w, v.h) * v.dpr;
    const step = LONG_EDGE_STEPS.find((s) => s >= wanted) ?? LONG_EDGE_STEPS[LONG_EDGE_STEPS.length - 1]!;
    scale = Math.min(1, step / Math.max(box.width, box.height));
  }
  return {
    format,
    width: Math.max(1, Math.round(box.width * scale)),
    height: Math.max(1, Math.round(box.height * scale)),
    fit: canvas.fit,
    ...(tile ? { tile } : {}),
  };
}

/** Reads a viewport hint from query or message values; undefined when any part is unusable. */
export function parseViewport(w: unknown, h: unknown, dpr: unknown): { w: number; h: number; dpr: number } | undefined {
  const wn = Number(w);
  const hn = Number(h);
  const dn = dpr === undefined || dpr === '' ? 1 : Number(dpr);
  const ok = (n: number, max: number) => Number.isFinite(n) && n > 0 && n <= max;
  if (!ok(wn, 16_384) || !ok(hn, 16_384) || !ok(dn, 8)) return undefined;
  return { w: Math.round(wn), h: Math.round(hn), dpr: dn };
}
