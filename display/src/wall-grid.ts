import type { TileGrid } from '../../protocol/wire.js';

/**
 * Tiled walls on the display side: the `tile=column,row` a screen joins as, and the grid the
 * server's hello describes, from which /wall?grid= lays out every tile of a wall in one window.
 */

/** Column and row, 1-based, as in `/c/lobby?tile=2,1`. */
export const TILE_PATTERN = /^([1-9][0-9]?),([1-9][0-9]?)$/;

export type { TileGrid as WallGrid } from '../../protocol/wire.js';

/** `2,1` when it reads as column,row; undefined otherwise (the server then refuses nothing it never got). */
export function readTileParam(value: string | null | undefined): string | undefined {
  const v = value?.trim();
  return v && TILE_PATTERN.test(v) ? v : undefined;
}

/** Where one tile sits in a preview of the whole wall, in percent of the wall's width and height. */
export interface TilePlace {
  tile: string;
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Every tile of the grid in its place, the bezel gaps between them at their true scale. */
export function wallLayout(grid: TileGrid): { aspect: number; tiles: TilePlace[] } {
  const wallW = grid.columns * grid.tileWidth + (grid.columns - 1) * grid.bezelPx;
  const wallH = grid.rows * grid.tileHeight + (grid.rows - 1) * grid.bezelPx;
  const tiles: TilePlace[] = [];
  for (let row = 1; row <= grid.rows; row++) {
    for (let column = 1; column <= grid.columns; column++) {
      tiles.push({
        tile: `${column},${row}`,
        left: ((column - 1) * (grid.tileWidth + grid.bezelPx) * 100) / wallW,
        top: ((row - 1) * (grid.tileHeight + grid.bezelPx) * 100) / wallH,
        width: (grid.tileWidth * 100) / wallW,
        height: (grid.tileHeight * 100) / wallH,
      });
    }
  }
  return { aspect: wallW / wallH, tiles };
}
