// Original file: proto/easel/inference/v1/inference.proto

import type { Long } from '@grpc/proto-loader';

export interface GenerateRequest {
  /**
   * What to draw. Required, non-empty. UTF-8, at most 2000 characters (the model truncates
   * to its own token limit; that is fine).
   */
  'prompt'?: (string);
  /**
   * What not to draw. May be empty. SDXL-Turbo ignores it when guidance_scale is 0; a service
   * may ignore it then.
   */
  'negativePrompt'?: (string);
  /**
   * Size of every image in pixels. 0 means the service's default (the first entry of
   * InfoResponse.supported_sizes). A service that cannot produce the exact size fails with
   * INVALID_ARGUMENT rather than returning another size. SDXL-Turbo: multiples of 8,
   * 512x512 is its native size.
   */
  'width'?: (number);
  'height'?: (number);
  /**
   * How many images to generate in this call, 1..InfoResponse.max_batch. 0 means 1.
   */
  'numImages'?: (number);
  /**
   * Denoising steps, InfoResponse.min_inference_steps..max_inference_steps.
   * 0 means the service's default. SDXL-Turbo: 1..4, default 1.
   */
  'numInferenceSteps'?: (number);
  /**
   * Classifier-free guidance scale, >= 0. SDXL-Turbo is trained for 0 (no guidance);
   * the field exists for models that need it.
   */
  'guidanceScale'?: (number | string);
  /**
   * Seed for the first image; image i of the batch uses seed + i (modulo 2^64), so a batch
   * is reproducible and every image of it differs. When unset, the service picks a random
   * seed per call and reports each image's seed in GeneratedImage.seed.
   */
  'seed'?: (number | string | Long);
  /**
   * img2img: when non-empty, an encoded image (JPEG, PNG or WebP) to start from. The service
   * resizes it to width x height. Empty means text-to-image. Easel sends back an image the
   * service made (a few hundred KiB), but gRPC servers refuse messages over 4 MiB by default:
   * raise grpc.max_receive_message_length if you expect larger ones.
   */
  'initImage'?: (Buffer | Uint8Array | string);
  /**
   * img2img only: how far to move away from init_image, 0..1 exclusive of 0. Near 0 keeps
   * init_image almost unchanged, 1 ignores it. Ignored when init_image is empty.
   * SDXL-Turbo needs num_inference_steps * strength >= 1 (for example steps 2, strength 0.5).
   */
  'strength'?: (number | string);
  /**
   * An id the client chose for this call (a UUID), for logs on both sides. Echo it in every
   * GeneratedImage. May be empty.
   */
  'requestId'?: (string);
  '_seed'?: "seed";
}

export interface GenerateRequest__Output {
  /**
   * What to draw. Required, non-empty. UTF-8, at most 2000 characters (the model truncates
   * to its own token limit; that is fine).
   */
  'prompt': (string);
  /**
   * What not to draw. May be empty. SDXL-Turbo ignores it when guidance_scale is 0; a service
   * may ignore it then.
   */
  'negativePrompt': (string);
  /**
   * Size of every image in pixels. 0 means the service's default (the first entry of
   * InfoResponse.supported_sizes). A service that cannot produce the exact size fails with
   * INVALID_ARGUMENT rather than returning another size. SDXL-Turbo: multiples of 8,
   * 512x512 is its native size.
   */
  'width': (number);
  'height': (number);
  /**
   * How many images to generate in this call, 1..InfoResponse.max_batch. 0 means 1.
   */
  'numImages': (number);
  /**
   * Denoising steps, InfoResponse.min_inference_steps..max_inference_steps.
   * 0 means the service's default. SDXL-Turbo: 1..4, default 1.
   */
  'numInferenceSteps': (number);
  /**
   * Classifier-free guidance scale, >= 0. SDXL-Turbo is trained for 0 (no guidance);
   * the field exists for models that need it.
   */
  'guidanceScale': (number);
  /**
   * Seed for the first image; image i of the batch uses seed + i (modulo 2^64), so a batch
   * is reproducible and every image of it differs. When unset, the service picks a random
   * seed per call and reports each image's seed in GeneratedImage.seed.
   */
  'seed'?: (number);
  /**
   * img2img: when non-empty, an encoded image (JPEG, PNG or WebP) to start from. The service
   * resizes it to width x height. Empty means text-to-image. Easel sends back an image the
   * service made (a few hundred KiB), but gRPC servers refuse messages over 4 MiB by default:
   * raise grpc.max_receive_message_length if you expect larger ones.
   */
  'initImage': (Buffer);
  /**
   * img2img only: how far to move away from init_image, 0..1 exclusive of 0. Near 0 keeps
   * init_image almost unchanged, 1 ignores it. Ignored when init_image is empty.
   * SDXL-Turbo needs num_inference_steps * strength >= 1 (for example steps 2, strength 0.5).
   */
  'strength': (number);
  /**
   * An id the client chose for this call (a UUID), for logs on both sides. Echo it in every
   * GeneratedImage. May be empty.
   */
  'requestId': (string);
  '_seed'?: "seed";
}
