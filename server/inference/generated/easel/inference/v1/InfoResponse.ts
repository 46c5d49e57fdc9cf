// Original file: proto/easel/inference/v1/inference.proto

import type { ImageSize as _easel_inference_v1_ImageSize, ImageSize__Output as _easel_inference_v1_ImageSize__Output } from '../../../easel/inference/v1/ImageSize.js';

export interface InfoResponse {
  /**
   * The model, as its hub id or file name: "stabilityai/sdxl-turbo".
   */
  'modelName'?: (string);
  /**
   * Sizes the model is made for; Generate accepts at least these (a service may accept
   * others, and then says which in its INVALID_ARGUMENT message). The first one is the
   * default for width = height = 0.
   */
  'supportedSizes'?: (_easel_inference_v1_ImageSize)[];
  /**
   * The most images one Generate call may ask for.
   */
  'maxBatch'?: (number);
  /**
   * The accepted range and default of num_inference_steps.
   */
  'minInferenceSteps'?: (number);
  'maxInferenceSteps'?: (number);
  'defaultInferenceSteps'?: (number);
  /**
   * Whether init_image / strength (img2img) is supported. When false, a request with an
   * init_image fails with INVALID_ARGUMENT.
   */
  'supportsInitImage'?: (boolean);
  /**
   * The mime type GeneratedImage.data will have.
   */
  'outputMime'?: (string);
  /**
   * Where the model runs, for operators: "cuda:0 NVIDIA H100 80GB HBM3", "cpu".
   */
  'device'?: (string);
  /**
   * The service's own name and version, for operators: "easel-sdxl 0.1.0".
   */
  'serverVersion'?: (string);
}

export interface InfoResponse__Output {
  /**
   * The model, as its hub id or file name: "stabilityai/sdxl-turbo".
   */
  'modelName': (string);
  /**
   * Sizes the model is made for; Generate accepts at least these (a service may accept
   * others, and then says which in its INVALID_ARGUMENT message). The first one is the
   * default for width = height = 0.
   */
  'supportedSizes': (_easel_inference_v1_ImageSize__Output)[];
  /**
   * The most images one Generate call may ask for.
   */
  'maxBatch': (number);
  /**
   * The accepted range and default of num_inference_steps.
   */
  'minInferenceSteps': (number);
  'maxInferenceSteps': (number);
  'defaultInferenceSteps': (number);
  /**
   * Whether init_image / strength (img2img) is supported. When false, a request with an
   * init_image fails with INVALID_ARGUMENT.
   */
  'supportsInitImage': (boolean);
  /**
   * The mime type GeneratedImage.data will have.
   */
  'outputMime': (string);
  /**
   * Where the model runs, for operators: "cuda:0 NVIDIA H100 80GB HBM3", "cpu".
   */
  'device': (string);
  /**
   * The service's own name and version, for operators: "easel-sdxl 0.1.0".
   */
  'serverVersion': (string);
}
