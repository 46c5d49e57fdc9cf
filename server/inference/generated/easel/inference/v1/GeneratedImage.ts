// Original file: proto/easel/inference/v1/inference.proto

import type { Long } from '@grpc/proto-loader';

export interface GeneratedImage {
  /**
   * The encoded image: a complete file in the format named by `mime`.
   */
  'data'?: (Buffer | Uint8Array | string);
  /**
   * "image/jpeg", "image/png" or "image/webp". Easel re-encodes for displays anyway, so pick
   * what is fastest to encode (JPEG at quality 90 is a good default).
   */
  'mime'?: (string);
  /**
   * The actual size of `data` in pixels (equal to the request's size).
   */
  'width'?: (number);
  'height'?: (number);
  /**
   * The seed that made this image, so it can be generated again.
   */
  'seed'?: (number | string | Long);
  /**
   * Position in the batch, 0..num_images-1.
   */
  'index'?: (number);
  /**
   * Milliseconds of model time for this image (for a batch generated at once: the batch time
   * divided by the batch size). Excludes queueing; includes encoding.
   */
  'inferenceMs'?: (number | string);
  /**
   * The request_id of the call that made it.
   */
  'requestId'?: (string);
}

export interface GeneratedImage__Output {
  /**
   * The encoded image: a complete file in the format named by `mime`.
   */
  'data': (Buffer);
  /**
   * "image/jpeg", "image/png" or "image/webp". Easel re-encodes for displays anyway, so pick
   * what is fastest to encode (JPEG at quality 90 is a good default).
   */
  'mime': (string);
  /**
   * The actual size of `data` in pixels (equal to the request's size).
   */
  'width': (number);
  'height': (number);
  /**
   * The seed that made this image, so it can be generated again.
   */
  'seed': (number);
  /**
   * Position in the batch, 0..num_images-1.
   */
  'index': (number);
  /**
   * Milliseconds of model time for this image (for a batch generated at once: the batch time
   * divided by the batch size). Excludes queueing; includes encoding.
   */
  'inferenceMs': (number);
  /**
   * The request_id of the call that made it.
   */
  'requestId': (string);
}
