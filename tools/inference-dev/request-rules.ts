/**
 * What the dev inference service accepts, as the contract asks a real service to check:
 * a request that breaks a rule fails with INVALID_ARGUMENT and a message that says which.
 */
import sharp from 'sharp';
import type { GenerateRequestMessage } from '../../server/inference/proto.js';

/** The sizes GetInfo lists; the first is the default. Any multiple of 8 from 64 to 2048 is accepted. */
export const SIZES = [
  [512, 512],
  [768, 768],
  [1024, 1024],
  [768, 512],
  [512, 768],
] as const;

export const MAX_STEPS = 4;

/** Why a request breaks the contract, in words for the INVALID_ARGUMENT status; undefined if it is fine. */
export async function checkRequest(request: GenerateRequestMessage, maxBatch: number): Promise<string | undefined> {
  if (request.prompt.trim() === '') return 'prompt is empty';
  for (const [name, value] of [
    ['width', request.width],
    ['height', request.height],
  ] as const) {
    if (value !== 0 && (value < 64 || value > 2048 || value % 8 !== 0)) {
      return `${name} ${value} is not allowed: use 0 (default 512) or a multiple of 8 from 64 to 2048`;
    }
  }
  if (request.numImages > maxBatch) return `num_images ${request.numImages} is over max_batch ${maxBatch}`;
  if (request.numInferenceSteps > MAX_STEPS) return `num_inference_steps ${request.numInferenceSteps} is outside 1..${MAX_STEPS}`;
  if (request.initImage.length > 0) {
    if (!(request.strength > 0 && request.strength <= 1)) return `strength ${request.strength} is outside 0..1 (exclusive of 0)`;
    try {
      await sharp(request.initImage).metadata();
    } catch {
      return 'init_image does not decode as an image';
    }
  }
  return undefined;
}
