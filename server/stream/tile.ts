/**
 * Tiled walls: one canvas spread over a grid of screens. The source frame is laid over the whole
 * wall, bezel gaps included, so a line that crosses a bezel stays straight; the strip behind
 * each bezel is never shown. Each screen (a tile) gets its own crop as its own rendition.
 */
import type { TileGrid, TilePosition } from '../../protocol/wire.js';
import type { Fit } from './rendition.js';

/** Most columns or rows of a wall: more screens than this on one canvas is not a wall but a fleet. */
export const MAX_TILES_PER_SIDE = 16;
/** Widest bezel gap, in tile pixels. */
export const MAX_BEZEL_PX = 2000;

/** A canvas's grid (every blank filled: tile sizes default to the canvas's size) and one screen of it, as the wire names them. */
export type { TileGrid, TilePosition };

export type TileSpec = TileGrid & TilePosition;

/** A rectangle in source pixels, as sharp's extract() takes it. */
export interface Rect {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** The whole wall in tile pixels, bezel gaps included. */
export function wallSize(grid: TileGrid): { width: number; height: number } {
  return {
    width: grid.columns * grid.tileWidth + (grid.columns - 1) * grid.bezelPx,
    height: grid.rows * grid.tileHeight + (grid.rows - 1) * grid.bezelPx,
  };
}

/** Where a tile sits on the wall, in tile pixels. */
export function tileOnWall(tile: TileSpec): Rect {
  return {
    left: (tile.column - 1) * (tile.tileWidth + tile.bezelPx),
    top: (tile.row - 1) * (tile.tileHeight + tile.bezelPx),
    width: tile.tileWidth,
    height: tile.tileHeight,
  };
}

/**
 * The part of a `source`-sized image one tile shows. The source covers the wall (centred, cut to
 * the wall's shape, as `cover` does), or is stretched over it when the canvas's fit is `fill`.
 * Edges are rounded, not sizes, so neighbouring tiles meet without a gap or an overlap.
 */
export function tileRect(tile: TileSpec, source: { width: number; height: number }, fit: Fit): Rect {
  const wall = wallSize(tile);
  let sx: number;
  let sy: number;
  if (fit === 'fill') {
    sx = source.width / wall.width;
    sy = source.height / wall.height;
  } else {
    sx = Math.min(source.width / wall.width, source.height / wall.height);
    sy = sx;
  }
  const ox = (source.width - wall.width * sx) / 2;
  const oy = (source.height - wall.height * sy) / 2;
  const at = tileOnWall(tile);
  const clamp = (v: number, max: number) => Math.min(max, Math.max(0, Math.round(v)));
  const left = Math.min(clamp(ox + at.left * sx, source.width), source.width - 1);
  const top = Math.min(clamp(oy + at.top * sy, source.height), source.height - 1);
  const right = clamp(ox + (at.left + at.width) * sx, source.width);
  const bottom = clamp(oy + (at.top + at.height) * sy, source.height);
  return { left, top, width: Math.max(1, right - left), height: Math.max(1, bottom - top) };
}

/**
 * The size a tile's crop is encoded at: the crop's own size when it fits the rendition box (the
 * screen scales up, the server does not, and an unscaled crop skips a resampling pass), else the
 * box scaled down, keeping its shape, to fit inside the crop.
 */
export function tileOutputSize(box: { width: number; height: number }, crop: Rect): { width: number; height: number } {
  if (crop.width <= box.width && crop.height <= box.height) return { width: crop.width, height: crop.height };
  const k = Math.min(1, crop.width / box.width, crop.height / box.height);
  return { width: Math.max(1, Math.round(box.width * k)), height: Math.max(1, Math.round(box.height * k)) };
}

/** A part of a rendition key: the grid is in it, so two canvases with different walls never share a cached crop. */
export function tileKey(tile: TileSpec): string {
  return `tile${tile.column},${tile.row}of${tile.columns}x${tile.rows}+${tile.bezelPx}@${tile.tileWidth}x${tile.tileHeight}`;
}

export type TileParse = { ok: true; tile: TilePosition } | { ok: false; reason: string; hint: string };

/**
 * Reads `tile=2,1` (column,row, 1-based) against a canvas's grid. Anything else — other
 * separators, signs, zeros, spaces, a tile off the grid, a canvas with no grid — is refused with
 * words a person can act on.
 */
export function parseTile(raw: string, grid: TileGrid | undefined, slug: string): TileParse {
  const shown = raw.length > 20 ? `${raw.slice(0, 20)}…` : raw;
  if (!grid) {
    return {
      ok: false,
      reason: `Canvas "${slug}" is not a tiled wall, so it has no tile "${shown}"`,
      hint: `Leave tile out, or declare canvases[].tiles for "${slug}" in the config`,
    };
  }
  const example = `tile=1,1 to tile=${grid.columns},${grid.rows}`;
  const m = /^([1-9][0-9]?),([1-9][0-9]?)$/.exec(raw);
  if (!m) {
    return { ok: false, reason: `Tile "${shown}" is not column,row`, hint: `Use two whole numbers from 1, column first: ${example}` };
  }
  const column = Number(m[1]);
  const row = Number(m[2]);
  if (column > grid.columns || row > grid.rows) {
    return {
      ok: false,
      reason: `Tile ${column},${row} is off the ${grid.columns}x${grid.rows} grid of canvas "${slug}"`,
      hint: `Use ${example}`,
    };
  }
  return { ok: true, tile: { column, row } };
}
