/**
 * Checks that a generated image decodes before it takes a frame slot, and keeps the count of
 * those that did not. A service that sends garbage gets one log line, not one per image: the
 * count is in the source's status.
 */
import type { Logger } from '../logger.js';
import sharp from 'sharp';
import { EaselError } from '../errors.js';
import type { InferenceImage } from '../inference/client.js';
import type { SourceImage } from './source.js';

export interface ImageCheck {
  /** Resolves true when the bytes decode as an image; false (counted, logged once) otherwise. */
  (image: InferenceImage): Promise<boolean>;
  /** Counts an image the canvas could not render after all (logged once). */
  rejected(image: SourceImage, err: Error): void;
  counts(): { skippedImages: number; rejectedImages: number };
  /** The error for the latest image that did not decode, for the source's status. */
  lastError(): EaselError | undefined;
}

/** Reads the header only: cheap, and enough to tell an image from random bytes. */
async function probeWithSharp(data: Buffer): Promise<void> {
  const { format, width, height } = await sharp(data).metadata();
  if (!format || !width || !height) throw new Error('no image format, width or height in the header');
}

export function createImageCheck(log: Logger, probe: (data: Buffer) => Promise<void> = probeWithSharp): ImageCheck {
  let skipped = 0;
  let rejectedCount = 0;
  let last: EaselError | undefined;

  const check = async (image: InferenceImage): Promise<boolean> => {
    try {
      await probe(image.data);
      return true;
    } catch (cause) {
      skipped += 1;
      last = new EaselError(
        'EASEL_ERR_INFERENCE_BAD_IMAGE',
        `Inference service at "${image.endpoint}" sent an image that does not decode: ${(cause as Error).message}`,
        {
          hint: "Check the service's encoder and that GeneratedImage.data holds a complete JPEG, PNG or WebP file; Easel skips such images",
          cause,
          details: { endpoint: image.endpoint, requestId: image.requestId, index: image.index, mime: image.mime, bytes: image.data.length },
        },
      );
      if (skipped === 1) log.warn({ err: last }, 'Skipping generated images that do not decode (counted in the canvas status)');
      return false;
    }
  };

  return Object.assign(check, {
    rejected(image: SourceImage, err: Error) {
      rejectedCount += 1;
      if (rejectedCount === 1) log.warn({ err, imageId: image.id }, 'A generated image could not be rendered and is skipped');
    },
    counts: () => ({ skippedImages: skipped, rejectedImages: rejectedCount }),
    lastError: () => last,
  });
}
