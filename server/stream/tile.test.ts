import { describe, expect, it } from 'vitest';
import { parseTile, tileOutputSize, tileRect, wallSize, type TileGrid } from './tile.js';

const pair: TileGrid = { columns: 2, rows: 1, bezelPx: 0, tileWidth: 100, tileHeight: 100 };

describe('tileRect', () => {
  it('cuts a 2x1 wall with no bezel into the two halves of the source', () => {
    const source = { width: 200, height: 100 };
    expect(tileRect({ ...pair, column: 1, row: 1 }, source, 'cover')).toEqual({ left: 0, top: 0, width: 100, height: 100 });
    expect(tileRect({ ...pair, column: 2, row: 1 }, source, 'cover')).toEqual({ left: 100, top: 0, width: 100, height: 100 });
  });

  it('leaves out the strip behind the bezel: the source spans the wall, gap included', () => {
    const grid = { ...pair, bezelPx: 20 };
    expect(wallSize(grid)).toEqual({ width: 220, height: 100 });
    const source = { width: 440, height: 200 }; // 2 source pixels per wall pixel
    expect(tileRect({ ...grid, column: 1, row: 1 }, source, 'cover')).toEqual({ left: 0, top: 0, width: 200, height: 200 });
    expect(tileRect({ ...grid, column: 2, row: 1 }, source, 'cover')).toEqual({ left: 240, top: 0, width: 200, height: 200 });
  });

  it('cuts the source to the wall shape, centred, unless the fit is fill', () => {
    const source = { width: 400, height: 100 }; // twice as wide as the 200x100 wall
    expect(tileRect({ ...pair, column: 1, row: 1 }, source, 'cover')).toEqual({ left: 100, top: 0, width: 100, height: 100 });
    expect(tileRect({ ...pair, column: 1, row: 1 }, source, 'fill')).toEqual({ left: 0, top: 0, width: 200, height: 100 });
  });

  it('has neighbouring tiles meet without a gap or an overlap when pixels do not divide evenly', () => {
    const grid: TileGrid = { columns: 3, rows: 3, bezelPx: 7, tileWidth: 1920, tileHeight: 1080 };
    const source = { width: 3840, height: 2160 };
    for (let row = 1; row <= 3; row++) {
      const rects = [1, 2, 3].map((column) => tileRect({ ...grid, column, row }, source, 'cover'));
      for (const r of rects) {
        expect(r.left + r.width).toBeLessThanOrEqual(source.width);
        expect(r.top + r.height).toBeLessThanOrEqual(source.height);
      }
      // The gap between neighbours is the bezel in source pixels, the same on each side.
      expect(rects[1]!.left - (rects[0]!.left + rects[0]!.width)).toBe(rects[2]!.left - (rects[1]!.left + rects[1]!.width));
    }
    // 5774x3254 with its bezels, a little narrower than 16:9: the source is cut evenly at both sides.
    const first = tileRect({ ...grid, column: 1, row: 1 }, source, 'cover');
    const last = tileRect({ ...grid, column: 3, row: 3 }, source, 'cover');
    expect(first.left).toBeGreaterThan(0);
    expect(Math.abs(first.left - (source.width - (last.left + last.width)))).toBeLessThanOrEqual(1);
    expect(first.top).toBe(0);
    expect(last.top + last.height).toBe(2160);
  });

  it('never gives an empty or outside rectangle, even for a tiny source', () => {
    const grid: TileGrid = { columns: 16, rows: 16, bezelPx: 2000, tileWidth: 16, tileHeight: 16 };
    const r = tileRect({ ...grid, column: 16, row: 16 }, { width: 3, height: 2 }, 'cover');
    expect(r.width).toBeGreaterThanOrEqual(1);
    expect(r.height).toBeGreaterThanOrEqual(1);
    expect(r.left + r.width).toBeLessThanOrEqual(3);
    expect(r.top + r.height).toBeLessThanOrEqual(2);
  });
});

describe('tileOutputSize', () => {
  it('encodes at the crop size when the crop is smaller than the screen (the screen scales up)', () => {
    expect(tileOutputSize({ width: 1920, height: 1080 }, { left: 0, top: 0, width: 1280, height: 720 })).toEqual({
      width: 1280,
      height: 720,
    });
  });
  it('encodes a crop that fits the screen as it is, with no resampling pass', () => {
    expect(tileOutputSize({ width: 1920, height: 1080 }, { left: 5, top: 0, width: 1249, height: 703 })).toEqual({
      width: 1249,
      height: 703,
    });
  });
  it('encodes at the screen size when the crop is larger', () => {
    expect(tileOutputSize({ width: 960, height: 540 }, { left: 0, top: 0, width: 1280, height: 720 })).toEqual({ width: 960, height: 540 });
  });
});

describe('parseTile', () => {
  it('reads column,row from 1', () => {
    expect(parseTile('2,1', pair, 'lobby')).toEqual({ ok: true, tile: { column: 2, row: 1 } });
  });

  it.each(['', '2', '2,', ',1', '0,1', '1,0', '-1,1', '1.5,1', ' 1,1', '1;1', '1,1,1', '01,1', 'a,b', '1x1'])(
    'refuses the malformed tile %j, saying how to write one',
    (raw) => {
      const result = parseTile(raw, pair, 'lobby');
      expect(result).toMatchObject({ ok: false, hint: 'Use two whole numbers from 1, column first: tile=1,1 to tile=2,1' });
    },
  );

  it('refuses a tile off the grid, naming the grid', () => {
    expect(parseTile('3,1', pair, 'lobby')).toMatchObject({ ok: false, reason: 'Tile 3,1 is off the 2x1 grid of canvas "lobby"' });
    expect(parseTile('1,2', pair, 'lobby')).toMatchObject({ ok: false });
  });

  it('refuses any tile on a canvas with no grid', () => {
    expect(parseTile('1,1', undefined, 'plain')).toMatchObject({ ok: false, reason: expect.stringContaining('not a tiled wall') });
  });

  it('quotes an oversized value cut short', () => {
    const result = parseTile('9'.repeat(10_000), pair, 'lobby');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason.length).toBeLessThan(100);
  });
});
