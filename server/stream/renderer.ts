import sharp, { type Sharp } from 'sharp';
import { EaselError } from '../errors.js';
import { checkBytes } from './image-limits.js';
import { createRenditionCache } from './rendition-cache.js';
import { MIME, renditionKey, type ImageFormat, type RenditionSpec } from './rendition.js';
import type { SourceImage } from './source.js';
import { tileOutputSize, tileRect, type TilePosition } from './tile.js';

/** One frame in one rendition, encoded. */
export interface EncodedImage {
  data: Buffer;
  format: ImageFormat;
  mime: string;
  width: number;
  height: number;
  /** Set for a tile of a wall: which one this crop is. */
  tile?: TilePosition;
}

export interface RendererOptions {
  /** Images with more pixels than this are refused before decoding (width × height). */
  limitInputPixels: number;
  /** Image data larger than this is refused before decoding (render.maxFileBytes); no limit when absent. */
  maxFileBytes?: number;
  webp: { quality: number; effort: number };
  jpeg: { quality: number };
  avif: { quality: number; effort: number };
  /** Budget for renditions of images that come back (looping folders); 0 turns it off. */
  cacheBytes: number;
  /** Told how long each uncached render took, ms (for metrics). */
  onRendered?: (ms: number) => void;
}

export interface RendererStats {
  rendered: number;
  cacheHits: number;
  failed: number;
  /** Wall time of the last render, ms (decode + resize + all encodes of one frame). */
  lastRenderMs: number;
}

export interface Renderer {
  /**
   * Makes every rendition asked for, decoding the image once. Rejects with EASEL_ERR_IMAGE_TOO_LARGE
   * or EASEL_ERR_IMAGE_UNREADABLE for images that cannot be shown. The work runs on libvips'
   * threads: the event loop only waits.
   */
  render(image: SourceImage, specs: readonly RenditionSpec[]): Promise<Map<string, EncodedImage>>;
  readonly stats: Readonly<RendererStats>;
  /** Bytes held by the rendition cache now (at most its budget). */
  readonly cacheBytes: number;
}

export function createRenderer(options: RendererOptions): Renderer {
  // libvips' own operation cache keeps decoded inputs around (50 MB by default) for repeats
  // that never come: every frame is a new image, and repeats hit the rendition cache below.
  sharp.cache(false);
  const cache = createRenditionCache<EncodedImage>(options.cacheBytes);
  const stats: RendererStats = { rendered: 0, cacheHits: 0, failed: 0, lastRenderMs: 0 };
  // 'error' refuses truncated and corrupt pixel data instead of showing grey half-images.
  const input = { limitInputPixels: options.limitInputPixels, failOn: 'error' as const };

  const encode = (pipeline: Sharp, format: ImageFormat): Sharp => {
    switch (format) {
      case 'webp':
        return pipeline.webp({ quality: options.webp.quality, effort: options.webp.effort });
      case 'jpeg':
        return pipeline.jpeg({ quality: options.jpeg.quality });
      case 'avif':
        return pipeline.avif({ quality: options.avif.quality, effort: options.avif.effort });
    }
  };

  const resize = (pipeline: Sharp, spec: RenditionSpec) =>
    pipeline.resize(spec.width, spec.height, { fit: spec.fit, withoutEnlargement: true });

  const finish = async (pipeline: Sharp, spec: RenditionSpec): Promise<EncodedImage> => {
    const { data, info } = await encode(resize(pipeline, spec), spec.format).toBuffer({ resolveWithObject: true });
    return { data, format: spec.format, mime: MIME[spec.format], width: info.width, height: info.height };
  };

  async function renderUncached(image: SourceImage, specs: readonly RenditionSpec[]) {
    // Every way in ends here (inference images, uploads, stills), so the byte limit holds for all.
    if (options.maxFileBytes !== undefined)
      checkBytes(image.data.length, { maxFileBytes: options.maxFileBytes, limitInputPixels: options.limitInputPixels }, 'Image');
    const meta = await sharp(image.data, { ...input, limitInputPixels: false }).metadata();
    const pixels = (meta.width ?? 0) * (meta.height ?? 0);
    if (options.limitInputPixels > 0 && pixels > options.limitInputPixels) {
      throw new EaselError(
        'EASEL_ERR_IMAGE_TOO_LARGE',
        `Image is ${meta.width}x${meta.height}, over the pixel limit of ${options.limitInputPixels}`,
        {
          hint: 'Scale the image down before adding it, or raise render.limitInputPixels',
          details: { width: meta.width, height: meta.height, limitInputPixels: options.limitInputPixels },
        },
      );
    }
    // .rotate() with no angle applies the EXIF orientation; metadata is stripped on output.
    const decoded = sharp(image.data, input).rotate();
    if (specs.some((s) => s.tile)) return renderWithTiles(decoded, specs);
    if (specs.length === 1) return [await finish(decoded, specs[0]!)];
    // Several renditions: decode and resize once to the largest, then derive the rest from raw pixels.
    const largest = specs.reduce((a, b) => (b.width * b.height > a.width * a.height ? b : a));
    const { data, info } = await resize(decoded, largest).raw().toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
    return Promise.all(specs.map((spec) => finish(sharp(data, raw), spec)));
  }

  /**
   * Tiles crop the frame at full size, so it is decoded once to raw pixels and every tile (and any
   * whole-frame rendition) is cut, resized and encoded from those, on libvips' threads in parallel.
   */
  async function renderWithTiles(decoded: Sharp, specs: readonly RenditionSpec[]): Promise<EncodedImage[]> {
    const { data, info } = await decoded.raw().toBuffer({ resolveWithObject: true });
    const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
    return Promise.all(
      specs.map(async (spec) => {
        if (!spec.tile) return finish(sharp(data, raw), spec);
        const crop = tileRect(spec.tile, info, spec.fit);
        const size = tileOutputSize(spec, crop);
        const cut = sharp(data, raw).extract(crop);
        const same = size.width === crop.width && size.height === crop.height;
        const pipeline = same ? cut : cut.resize(size.width, size.height, { fit: 'fill' });
        const out = await encode(pipeline, spec.format).toBuffer({ resolveWithObject: true });
        const { column, row } = spec.tile;
        return {
          data: out.data,
          format: spec.format,
          mime: MIME[spec.format],
          width: out.info.width,
          height: out.info.height,
          tile: { column, row },
        };
      }),
    );
  }

  return {
    stats,
    get cacheBytes() {
      return cache.bytes;
    },
    async render(image, specs) {
      const out = new Map<string, EncodedImage>();
      const missing: RenditionSpec[] = [];
      for (const spec of specs) {
        const key = renditionKey(spec);
        const hit = image.cacheKey ? cache.get(`${image.cacheKey}|${key}`) : undefined;
        if (hit) {
          out.set(key, hit);
          stats.cacheHits++;
        } else if (!missing.some((m) => renditionKey(m) === key)) missing.push(spec);
      }
      if (missing.length === 0) return out;

      const started = performance.now();
      let encoded: EncodedImage[];
      try {
        encoded = await renderUncached(image, missing);
      } catch (err) {
        stats.failed++;
        throw toImageError(err);
      }
      stats.lastRenderMs = performance.now() - started;
      stats.rendered++;
      options.onRendered?.(stats.lastRenderMs);
      missing.forEach((spec, i) => {
        const key = renditionKey(spec);
        out.set(key, encoded[i]!);
        if (image.cacheKey && options.cacheBytes > 0) cache.set(`${image.cacheKey}|${key}`, encoded[i]!);
      });
      return out;
    },
  };
}

function toImageError(err: unknown): EaselError {
  if (err instanceof EaselError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message)) {
    return new EaselError('EASEL_ERR_IMAGE_TOO_LARGE', `Image is over the pixel limit: ${message}`, {
      hint: 'Scale the image down before adding it, or raise render.limitInputPixels',
      cause: err,
    });
  }
  return new EaselError('EASEL_ERR_IMAGE_UNREADABLE', `Image could not be decoded: ${message.split('\n')[0]}`, {
    hint: 'Check that the file is a complete JPEG, PNG, WebP, AVIF, TIFF or GIF; re-export it if it was cut short',
    cause: err,
  });
}
