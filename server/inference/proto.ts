/**
 * Loads the inference contract (proto/) at run time with @grpc/proto-loader. The types in
 * ./generated/ come from the same files through proto-loader-gen-types; the options below MUST
 * match the generator's flags, or the types lie about the objects grpc-js hands out:
 *
 *   proto-loader-gen-types --longs=Number --bytes=Buffer --defaults --oneofs
 *     --grpcLib=@grpc/grpc-js --importFileExtension=.js --includeComments
 *     -I proto -O server/inference/generated
 *     easel/inference/v1/inference.proto grpc/health/v1/health.proto
 *
 * Field names are camelCase (keepCase false) everywhere in TypeScript; the wire names stay
 * snake_case, so a Python service sees `num_images` as the proto says.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import type { ProtoGrpcType as HealthProto } from './generated/health.js';
import type { ProtoGrpcType as InferenceProto } from './generated/inference.js';

export type { GenerateRequest } from './generated/easel/inference/v1/GenerateRequest.js';
export type { GeneratedImage__Output as GeneratedImageMessage } from './generated/easel/inference/v1/GeneratedImage.js';
export type { GeneratedImage as GeneratedImageInput } from './generated/easel/inference/v1/GeneratedImage.js';
export type { GenerateRequest__Output as GenerateRequestMessage } from './generated/easel/inference/v1/GenerateRequest.js';
export type { InfoResponse as InfoResponseInput } from './generated/easel/inference/v1/InfoResponse.js';
export type { InfoResponse__Output as InfoResponseMessage } from './generated/easel/inference/v1/InfoResponse.js';
export type { ImageGeneratorClient, ImageGeneratorHandlers } from './generated/easel/inference/v1/ImageGenerator.js';
export type { HealthClient, HealthHandlers } from './generated/grpc/health/v1/Health.js';
export type { HealthCheckResponse__Output as HealthCheckResponseMessage } from './generated/grpc/health/v1/HealthCheckResponse.js';

/** The fully qualified service name, as the health service knows it. */
export const IMAGE_GENERATOR_SERVICE = 'easel.inference.v1.ImageGenerator';

/** grpc.health.v1 serving states, as numbers on the wire (enums are loaded as numbers). */
export const SERVING_STATUS = {
  UNKNOWN: 0,
  SERVING: 1,
  NOT_SERVING: 2,
  SERVICE_UNKNOWN: 3,
} as const;

export const PROTO_LOADER_OPTIONS: protoLoader.Options = {
  keepCase: false,
  longs: Number,
  enums: Number,
  bytes: Buffer,
  defaults: true,
  oneofs: true,
};

const INFERENCE_PROTO = 'easel/inference/v1/inference.proto';
const HEALTH_PROTO = 'grpc/health/v1/health.proto';

export interface InferenceProtos {
  /** Client constructor and `.service` definition of easel.inference.v1.ImageGenerator. */
  imageGenerator: InferenceProto['easel']['inference']['v1']['ImageGenerator'];
  /** Client constructor and `.service` definition of grpc.health.v1.Health. */
  health: HealthProto['grpc']['health']['v1']['Health'];
  /** Where the .proto files were found. */
  protoRoot: string;
}

let loaded: InferenceProtos | undefined;

/**
 * Loads both protos once per process (parsing takes a few milliseconds; every client and the
 * dev service share the result).
 *
 * @example
 * const { imageGenerator } = loadInferenceProtos();
 * const client = new imageGenerator('127.0.0.1:50051', grpc.credentials.createInsecure());
 */
export function loadInferenceProtos(): InferenceProtos {
  if (loaded) return loaded;
  const protoRoot = findProtoRoot(dirname(fileURLToPath(import.meta.url)));
  const definition = protoLoader.loadSync([INFERENCE_PROTO, HEALTH_PROTO], {
    ...PROTO_LOADER_OPTIONS,
    includeDirs: [protoRoot],
  });
  const root = grpc.loadPackageDefinition(definition) as unknown as InferenceProto & HealthProto;
  loaded = {
    imageGenerator: root.easel.inference.v1.ImageGenerator,
    health: root.grpc.health.v1.Health,
    protoRoot,
  };
  return loaded;
}

/**
 * Walks up from this module to the folder holding proto/: it is two levels up when run from
 * source (server/inference/) and three when run from the build (dist/server/inference/).
 */
function findProtoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const candidate = join(dir, 'proto');
    if (existsSync(join(candidate, INFERENCE_PROTO))) return candidate;
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(`Cannot find "proto/${INFERENCE_PROTO}" in any folder above "${start}"`);
    }
    dir = parent;
  }
}
