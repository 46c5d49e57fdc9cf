import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { isEaselError } from '../errors.js';
import { createRenderer, type RendererOptions } from './renderer.js';
import type { RenditionSpec } from './rendition.js';
import type { SourceImage } from './source.js';

const options: RendererOptions = {
  limitInputPixels: 4_000_000,
  webp: { quality: 80, effort: 0 },
  jpeg: { quality: 80 },
  avif: { quality: 50, effort: 0 },
  cacheBytes: 8 * 1024 * 1024,
};

const spec = (format: RenditionSpec['format'], width = 400, height = 400): RenditionSpec => ({ format, width, height, fit: 'inside' });

const solid = (width: number, height: number, colour: string) =>
  sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();

const image = (data: Buffer, cacheKey?: string): SourceImage => ({ id: 'x', data, source: 'test', createdAt: 0, cacheKey });

describe('createRenderer', () => {
  it('resizes into the box keeping the aspect ratio and encodes each format asked for', async () => {
    const renderer = createRenderer(options);
    const out = await renderer.render(image(await solid(800, 400, '#ff0000')), [spec('webp'), spec('jpeg', 200, 200)]);
    const webp = out.get('webp:400x400:inside')!;
    const jpeg = out.get('jpeg:200x200:inside')!;
    expect(webp).toMatchObject({ mime: 'image/webp', width: 400, height: 200 });
    expect(jpeg).toMatchObject({ mime: 'image/jpeg', width: 200, height: 100 });
    expect((await sharp(webp.data).metadata()).format).toBe('webp');
    const { dominant } = await sharp(jpeg.data).stats();
    expect(dominant.r).toBeGreaterThan(200);
  });

  it('never enlarges a small source', async () => {
    const out = await createRenderer(options).render(image(await solid(100, 50, '#00ff00')), [spec('jpeg', 1000, 1000)]);
    expect(out.get('jpeg:1000x1000:inside')).toMatchObject({ width: 100, height: 50 });
  });

  it('applies the EXIF orientation and strips metadata', async () => {
    // 200x100 pixels stored, tagged "rotate 90° clockwise to display": shown as 100x200.
    const tagged = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#0000ff' } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    expect((await sharp(tagged).metadata()).orientation).toBe(6);
    const out = await createRenderer(options).render(image(tagged), [spec('jpeg')]);
    const encoded = out.get('jpeg:400x400:inside')!;
    expect(encoded).toMatchObject({ width: 100, height: 200 });
    const meta = await sharp(encoded.data).metadata();
    expect(meta.orientation).toBeUndefined();
    expect(meta.exif).toBeUndefined();
  });

  it('refuses an image over the pixel limit by its header, naming its size', async () => {
    const big = await solid(2100, 2000, '#000000');
    const err = await createRenderer(options)
      .render(image(big), [spec('webp')])
      .catch((e: unknown) => e);
    expect(isEaselError(err, 'EASEL_ERR_IMAGE_TOO_LARGE')).toBe(true);
    expect(String((err as Error).message)).toContain('2100x2000');
  });

  it('refuses image data over render.maxFileBytes before decoding, whatever its source (inference, upload, still)', async () => {
    const data = await solid(300, 200, '#123456');
    const err = await createRenderer({ ...options, maxFileBytes: data.length - 1 })
      .render(image(data), [spec('webp')])
      .catch((e: unknown) => e);
    expect(isEaselError(err, 'EASEL_ERR_IMAGE_TOO_LARGE')).toBe(true);
    expect((err as { details: Record<string, unknown> }).details).toMatchObject({ bytes: data.length, maxFileBytes: data.length - 1 });
    await expect(createRenderer({ ...options, maxFileBytes: data.length }).render(image(data), [spec('webp')])).resolves.toBeDefined();
  });

  it('refuses a truncated JPEG instead of showing half an image', async () => {
    const noise = Buffer.alloc(300 * 300 * 3);
    for (let i = 0; i < noise.length; i++) noise[i] = (i * 7919) % 251;
    const jpeg = await sharp(noise, { raw: { width: 300, height: 300, channels: 3 } })
      .jpeg()
      .toBuffer();
    const err = await createRenderer(options)
      .render(image(jpeg.subarray(0, jpeg.length / 2)), [spec('webp')])
      .catch((e: unknown) => e);
    expect(isEaselError(err, 'EASEL_ERR_IMAGE_UNREADABLE')).toBe(true);
  });

  it('refuses bytes that are not an image', async () => {
    const err = await createRenderer(options)
      .render(image(Buffer.from('not an image')), [spec('webp')])
      .catch((e: unknown) => e);
    expect(isEaselError(err, 'EASEL_ERR_IMAGE_UNREADABLE')).toBe(true);
  });

  it('cuts each tile of a wall from one decode, leaving out the strip behind the bezel', async () => {
    // 210 px wide: red 0-99, a white 10 px bezel strip, blue 110-209; a 2x1 wall of 100 px screens with a 10 px bezel.
    const data = await sharp({ create: { width: 210, height: 100, channels: 3, background: '#ff0000' } })
      .composite([
        { input: { create: { width: 10, height: 100, channels: 3, background: '#ffffff' } }, left: 100, top: 0 },
        { input: { create: { width: 100, height: 100, channels: 3, background: '#0000ff' } }, left: 110, top: 0 },
      ])
      .png()
      .toBuffer();
    const grid = { columns: 2, rows: 1, bezelPx: 10, tileWidth: 100, tileHeight: 100 };
    const tile = (column: number): RenditionSpec => ({
      format: 'webp',
      width: 100,
      height: 100,
      fit: 'cover',
      tile: { ...grid, column, row: 1 },
    });
    const specs = [tile(1), tile(2)];
    const renderer = createRenderer({ ...options, webp: { quality: 100, effort: 0 } });
    const out = [...(await renderer.render(image(data), [...specs, spec('jpeg')])).values()];
    expect(renderer.stats.rendered).toBe(1);
    const [left, right] = await Promise.all(out.slice(0, 2).map((e) => sharp(e.data).raw().toBuffer({ resolveWithObject: true })));
    expect(left!.info).toMatchObject({ width: 100, height: 100 });
    // Every column of each tile is its colour: no white from the bezel strip, no bleed from the neighbour.
    const channelMax = (buf: Buffer, channel: number) => Math.max(...[...buf].filter((_, i) => i % 3 === channel));
    expect(channelMax(left!.data, 2)).toBeLessThan(40);
    expect(channelMax(right!.data, 0)).toBeLessThan(40);
    expect(out[2]).toMatchObject({ mime: 'image/jpeg', width: 210, height: 100 }); // the whole frame, from the same decode
  });

  it('reuses renditions of an image that comes back with the same cache key', async () => {
    const renderer = createRenderer(options);
    const data = await solid(300, 300, '#123456');
    const first = await renderer.render(image(data, 'file-a'), [spec('webp')]);
    const second = await renderer.render(image(data, 'file-a'), [spec('webp')]);
    expect(second.get('webp:400x400:inside')).toBe(first.get('webp:400x400:inside'));
    expect(renderer.stats).toMatchObject({ rendered: 1, cacheHits: 1 });
  });
});
