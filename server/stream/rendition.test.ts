import { describe, expect, it } from 'vitest';
import { chooseRendition, parseViewport, renditionKey, type CanvasBox } from './rendition.js';

const canvas: CanvasBox = { width: 1920, height: 1080, fit: 'inside', formats: ['webp', 'jpeg'] };

describe('chooseRendition', () => {
  it('gives binary displays the canvas first format at full canvas size by default', () => {
    expect(chooseRendition(canvas, { mode: 'binary', accept: [] })).toEqual({
      format: 'webp',
      width: 1920,
      height: 1080,
      fit: 'inside',
    });
  });

  it('gives JSON displays JPEG unless they asked for something else the canvas offers', () => {
    expect(chooseRendition(canvas, { mode: 'json', accept: [] }).format).toBe('jpeg');
    expect(chooseRendition(canvas, { mode: 'json', accept: ['webp'] }).format).toBe('webp');
    expect(chooseRendition(canvas, { mode: 'binary', accept: ['avif', 'jpeg'] }).format).toBe('jpeg');
  });

  it('scales down to the display long edge rounded up to a step', () => {
    const phone = chooseRendition(canvas, { mode: 'binary', accept: [], viewport: { w: 390, h: 844, dpr: 1 } });
    expect(phone).toMatchObject({ width: 960, height: 540 });
  });

  it('never scales up past the canvas size, even for a 4K screen', () => {
    const tv = chooseRendition(canvas, { mode: 'binary', accept: [], viewport: { w: 3840, h: 2160, dpr: 1 } });
    expect(tv).toMatchObject({ width: 1920, height: 1080 });
  });

  it('lets similar screens share one rendition', () => {
    const a = chooseRendition(canvas, { mode: 'binary', accept: [], viewport: { w: 1200, h: 700, dpr: 1 } });
    const b = chooseRendition(canvas, { mode: 'binary', accept: [], viewport: { w: 1100, h: 1000, dpr: 1 } });
    expect(renditionKey(a)).toBe(renditionKey(b));
  });
});

describe('chooseRendition for a tile of a wall', () => {
  const wall: CanvasBox = { ...canvas, fit: 'cover', tiles: { columns: 2, rows: 1, bezelPx: 30, tileWidth: 1280, tileHeight: 800 } };

  it('sizes the rendition to one screen of the grid and keys it by tile and grid', () => {
    const left = chooseRendition(wall, { mode: 'binary', accept: [], tile: { column: 1, row: 1 } });
    const right = chooseRendition(wall, { mode: 'binary', accept: [], tile: { column: 2, row: 1 } });
    expect(left).toMatchObject({ width: 1280, height: 800, tile: { column: 1, row: 1, columns: 2, bezelPx: 30 } });
    expect(renditionKey(left)).toBe('webp:1280x800:cover:tile1,1of2x1+30@1280x800');
    expect(renditionKey(left)).not.toBe(renditionKey(right));
  });

  it('scales a tile down to a small screen like any rendition', () => {
    const small = chooseRendition(wall, { mode: 'binary', accept: [], tile: { column: 1, row: 1 }, viewport: { w: 600, h: 400, dpr: 1 } });
    expect(small).toMatchObject({ width: 640, height: 400 });
  });

  it('gives a display with no tile the whole frame, and ignores a tile on a canvas with no grid', () => {
    expect(chooseRendition(wall, { mode: 'binary', accept: [] }).tile).toBeUndefined();
    expect(chooseRendition(canvas, { mode: 'binary', accept: [], tile: { column: 1, row: 1 } }).tile).toBeUndefined();
  });
});

describe('parseViewport', () => {
  it('reads numbers from query strings with dpr defaulting to 1', () => {
    expect(parseViewport('800', '600', undefined)).toEqual({ w: 800, h: 600, dpr: 1 });
  });

  it('refuses missing, negative and absurd values', () => {
    expect(parseViewport('800', undefined, '2')).toBeUndefined();
    expect(parseViewport('-5', '600', '1')).toBeUndefined();
    expect(parseViewport('800', '600', '100')).toBeUndefined();
  });
});
