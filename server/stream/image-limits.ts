/**
 * The size limits every image passes before Easel reads or decodes it, whichever way it comes
 * in (folder, still path, upload, playlist step, inference): `render.maxFileBytes` from the file
 * size or the byte count, `render.limitInputPixels` from the header alone. A 1 GB still or a
 * 30,000² PNG is refused with EASEL_ERR_IMAGE_TOO_LARGE (HTTP 413) before it costs memory.
 */
import { stat } from 'node:fs/promises';
import sharp from 'sharp';
import { EaselError } from '../errors.js';

export interface ImageLimits {
  maxFileBytes: number;
  limitInputPixels: number;
}

/** What sharp reads for showing; anything else is refused as not an image. */
const SHOWABLE = new Set(['jpeg', 'png', 'webp', 'heif', 'tiff', 'gif']);

export function checkBytes(bytes: number, limits: ImageLimits, what: string): void {
  if (bytes <= limits.maxFileBytes) return;
  throw new EaselError('EASEL_ERR_IMAGE_TOO_LARGE', `${what} is ${bytes} bytes, over the file size limit of ${limits.maxFileBytes}`, {
    hint: 'Scale the image down or export it with more compression, or raise render.maxFileBytes',
    details: { bytes, maxFileBytes: limits.maxFileBytes },
  });
}

/**
 * Reads the header only (sharp's metadata, with its own pixel limit off so a huge image is
 * reported as too large rather than as unreadable) and checks the format and the pixel count.
 */
export async function checkHeader(
  input: Buffer | string,
  limits: ImageLimits,
  what: string,
): Promise<{ format: string; width: number; height: number }> {
  const meta = await sharp(input, { limitInputPixels: false })
    .metadata()
    .catch(() => undefined);
  if (!meta?.format || !SHOWABLE.has(meta.format) || !meta.width || !meta.height) {
    throw new EaselError(
      'EASEL_ERR_UNSUPPORTED_MEDIA',
      `${what} is not an image Easel can show${meta?.format ? ` (it is ${meta.format})` : ''}`,
      {
        hint: 'Use a JPEG, PNG, WebP, AVIF, TIFF or GIF file',
      },
    );
  }
  const { format, width, height } = meta;
  if (width * height > limits.limitInputPixels) {
    throw new EaselError('EASEL_ERR_IMAGE_TOO_LARGE', `${what} is ${width}x${height}, over the pixel limit of ${limits.limitInputPixels}`, {
      hint: 'Scale the image down, or raise render.limitInputPixels',
      details: { width, height, limitInputPixels: limits.limitInputPixels },
    });
  }
  return { format, width, height };
}

/** Checks an image file on the server: its size from stat, then its header; nothing else is read. */
export async function checkImageFile(file: string, limits: ImageLimits): Promise<void> {
  const info = await stat(file);
  checkBytes(info.size, limits, `Image "${file}"`);
  await checkHeader(file, limits, `File "${file}"`);
}
