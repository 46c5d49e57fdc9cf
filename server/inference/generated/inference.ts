import type * as grpc from '@grpc/grpc-js';
import type { MessageTypeDefinition } from '@grpc/proto-loader';

import type { GenerateRequest as _easel_inference_v1_GenerateRequest, GenerateRequest__Output as _easel_inference_v1_GenerateRequest__Output } from './easel/inference/v1/GenerateRequest.js';
import type { GeneratedImage as _easel_inference_v1_GeneratedImage, GeneratedImage__Output as _easel_inference_v1_GeneratedImage__Output } from './easel/inference/v1/GeneratedImage.js';
import type { GetInfoRequest as _easel_inference_v1_GetInfoRequest, GetInfoRequest__Output as _easel_inference_v1_GetInfoRequest__Output } from './easel/inference/v1/GetInfoRequest.js';
import type { ImageGeneratorClient as _easel_inference_v1_ImageGeneratorClient, ImageGeneratorDefinition as _easel_inference_v1_ImageGeneratorDefinition } from './easel/inference/v1/ImageGenerator.js';
import type { ImageSize as _easel_inference_v1_ImageSize, ImageSize__Output as _easel_inference_v1_ImageSize__Output } from './easel/inference/v1/ImageSize.js';
import type { InfoResponse as _easel_inference_v1_InfoResponse, InfoResponse__Output as _easel_inference_v1_InfoResponse__Output } from './easel/inference/v1/InfoResponse.js';

type SubtypeConstructor<Constructor extends new (...args: any) => any, Subtype> = {
  new(...args: ConstructorParameters<Constructor>): Subtype;
};

export interface ProtoGrpcType {
  easel: {
    inference: {
      v1: {
        GenerateRequest: MessageTypeDefinition<_easel_inference_v1_GenerateRequest, _easel_inference_v1_GenerateRequest__Output>
        GeneratedImage: MessageTypeDefinition<_easel_inference_v1_GeneratedImage, _easel_inference_v1_GeneratedImage__Output>
        GetInfoRequest: MessageTypeDefinition<_easel_inference_v1_GetInfoRequest, _easel_inference_v1_GetInfoRequest__Output>
        ImageGenerator: SubtypeConstructor<typeof grpc.Client, _easel_inference_v1_ImageGeneratorClient> & { service: _easel_inference_v1_ImageGeneratorDefinition }
        ImageSize: MessageTypeDefinition<_easel_inference_v1_ImageSize, _easel_inference_v1_ImageSize__Output>
        InfoResponse: MessageTypeDefinition<_easel_inference_v1_InfoResponse, _easel_inference_v1_InfoResponse__Output>
      }
    }
  }
}

