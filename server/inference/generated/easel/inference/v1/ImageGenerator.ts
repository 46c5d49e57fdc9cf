// Original file: proto/easel/inference/v1/inference.proto

import type * as grpc from '@grpc/grpc-js'
import type { MethodDefinition } from '@grpc/proto-loader'
import type { GenerateRequest as _easel_inference_v1_GenerateRequest, GenerateRequest__Output as _easel_inference_v1_GenerateRequest__Output } from '../../../easel/inference/v1/GenerateRequest.js';
import type { GeneratedImage as _easel_inference_v1_GeneratedImage, GeneratedImage__Output as _easel_inference_v1_GeneratedImage__Output } from '../../../easel/inference/v1/GeneratedImage.js';
import type { GetInfoRequest as _easel_inference_v1_GetInfoRequest, GetInfoRequest__Output as _easel_inference_v1_GetInfoRequest__Output } from '../../../easel/inference/v1/GetInfoRequest.js';
import type { InfoResponse as _easel_inference_v1_InfoResponse, InfoResponse__Output as _easel_inference_v1_InfoResponse__Output } from '../../../easel/inference/v1/InfoResponse.js';

export interface ImageGeneratorClient extends grpc.Client {
  /**
   * Generates `num_images` images for one prompt and streams each one as soon as it is
   * encoded, in index order (0, 1, ...). The stream ends (status OK) after the last image.
   * 
   * Status codes to use (Easel maps each to what it tells the operator, and to whether it
   * retries):
   * INVALID_ARGUMENT   the request breaks a rule below (size not supported, num_images
   * over max_batch, steps out of range, strength outside 0..1,
   * init_image that does not decode, empty prompt). Easel does not
   * retry the same request quickly.
   * RESOURCE_EXHAUSTED the service is busy (queue full) or ran out of GPU memory for this
   * batch. Easel backs off and retries, possibly on another endpoint.
   * UNAVAILABLE        the service cannot generate right now (model still loading,
   * shutting down). Also report NOT_SERVING on the health service.
   * Easel backs off, retries, and prefers other endpoints meanwhile.
   * CANCELLED / DEADLINE_EXCEEDED are set by gRPC itself when the client cancels or the
   * deadline passes; the service only has to stop.
   * INTERNAL           anything unexpected (a pipeline exception). Put the exception's
   * message in the status details; Easel logs it and retries later.
   * A call that fails after some images were streamed keeps those images: Easel shows them.
   */
  Generate(argument: _easel_inference_v1_GenerateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_easel_inference_v1_GeneratedImage__Output>;
  Generate(argument: _easel_inference_v1_GenerateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_easel_inference_v1_GeneratedImage__Output>;
  /**
   * Generates `num_images` images for one prompt and streams each one as soon as it is
   * encoded, in index order (0, 1, ...). The stream ends (status OK) after the last image.
   * 
   * Status codes to use (Easel maps each to what it tells the operator, and to whether it
   * retries):
   * INVALID_ARGUMENT   the request breaks a rule below (size not supported, num_images
   * over max_batch, steps out of range, strength outside 0..1,
   * init_image that does not decode, empty prompt). Easel does not
   * retry the same request quickly.
   * RESOURCE_EXHAUSTED the service is busy (queue full) or ran out of GPU memory for this
   * batch. Easel backs off and retries, possibly on another endpoint.
   * UNAVAILABLE        the service cannot generate right now (model still loading,
   * shutting down). Also report NOT_SERVING on the health service.
   * Easel backs off, retries, and prefers other endpoints meanwhile.
   * CANCELLED / DEADLINE_EXCEEDED are set by gRPC itself when the client cancels or the
   * deadline passes; the service only has to stop.
   * INTERNAL           anything unexpected (a pipeline exception). Put the exception's
   * message in the status details; Easel logs it and retries later.
   * A call that fails after some images were streamed keeps those images: Easel shows them.
   */
  generate(argument: _easel_inference_v1_GenerateRequest, metadata: grpc.Metadata, options?: grpc.CallOptions): grpc.ClientReadableStream<_easel_inference_v1_GeneratedImage__Output>;
  generate(argument: _easel_inference_v1_GenerateRequest, options?: grpc.CallOptions): grpc.ClientReadableStream<_easel_inference_v1_GeneratedImage__Output>;
  
  /**
   * Describes the model and the limits the service enforces, so a client can build requests
   * that will be accepted. Cheap; must answer while the model is still loading (with what it
   * will support once loaded).
   */
  GetInfo(argument: _easel_inference_v1_GetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_easel_inference_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _easel_inference_v1_GetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_easel_inference_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _easel_inference_v1_GetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_easel_inference_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  GetInfo(argument: _easel_inference_v1_GetInfoRequest, callback: grpc.requestCallback<_easel_inference_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  /**
   * Describes the model and the limits the service enforces, so a client can build requests
   * that will be accepted. Cheap; must answer while the model is still loading (with what it
   * will support once loaded).
   */
  getInfo(argument: _easel_inference_v1_GetInfoRequest, metadata: grpc.Metadata, options: grpc.CallOptions, callback: grpc.requestCallback<_easel_inference_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _easel_inference_v1_GetInfoRequest, metadata: grpc.Metadata, callback: grpc.requestCallback<_easel_inference_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _easel_inference_v1_GetInfoRequest, options: grpc.CallOptions, callback: grpc.requestCallback<_easel_inference_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  getInfo(argument: _easel_inference_v1_GetInfoRequest, callback: grpc.requestCallback<_easel_inference_v1_InfoResponse__Output>): grpc.ClientUnaryCall;
  
}

export interface ImageGeneratorHandlers extends grpc.UntypedServiceImplementation {
  /**
   * Generates `num_images` images for one prompt and streams each one as soon as it is
   * encoded, in index order (0, 1, ...). The stream ends (status OK) after the last image.
   * 
   * Status codes to use (Easel maps each to what it tells the operator, and to whether it
   * retries):
   * INVALID_ARGUMENT   the request breaks a rule below (size not supported, num_images
   * over max_batch, steps out of range, strength outside 0..1,
   * init_image that does not decode, empty prompt). Easel does not
   * retry the same request quickly.
   * RESOURCE_EXHAUSTED the service is busy (queue full) or ran out of GPU memory for this
   * batch. Easel backs off and retries, possibly on another endpoint.
   * UNAVAILABLE        the service cannot generate right now (model still loading,
   * shutting down). Also report NOT_SERVING on the health service.
   * Easel backs off, retries, and prefers other endpoints meanwhile.
   * CANCELLED / DEADLINE_EXCEEDED are set by gRPC itself when the client cancels or the
   * deadline passes; the service only has to stop.
   * INTERNAL           anything unexpected (a pipeline exception). Put the exception's
   * message in the status details; Easel logs it and retries later.
   * A call that fails after some images were streamed keeps those images: Easel shows them.
   */
  Generate: grpc.handleServerStreamingCall<_easel_inference_v1_GenerateRequest__Output, _easel_inference_v1_GeneratedImage>;
  
  /**
   * Describes the model and the limits the service enforces, so a client can build requests
   * that will be accepted. Cheap; must answer while the model is still loading (with what it
   * will support once loaded).
   */
  GetInfo: grpc.handleUnaryCall<_easel_inference_v1_GetInfoRequest__Output, _easel_inference_v1_InfoResponse>;
  
}

export interface ImageGeneratorDefinition extends grpc.ServiceDefinition {
  Generate: MethodDefinition<_easel_inference_v1_GenerateRequest, _easel_inference_v1_GeneratedImage, _easel_inference_v1_GenerateRequest__Output, _easel_inference_v1_GeneratedImage__Output>
  GetInfo: MethodDefinition<_easel_inference_v1_GetInfoRequest, _easel_inference_v1_InfoResponse, _easel_inference_v1_GetInfoRequest__Output, _easel_inference_v1_InfoResponse__Output>
}
