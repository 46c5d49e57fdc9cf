/**
 * One Generate call on one channel, as an async iterable of images. Kept apart from the
 * client so endpoint picking and failover stay readable.
 */
import type { GenerateRequest, GeneratedImageMessage, ImageGeneratorClient } from './proto.js';

/** A Generate request in TypeScript terms; field meanings and ranges are in the .proto. */
export interface InferenceRequest {
  prompt: string;
  negativePrompt?: string;
  /** Pixels; 0 or absent: the service's default size. */
  width?: number;
  height?: number;
  /** Images in this call; absent: 1. */
  numImages?: number;
  /** Absent: the service's default (SDXL-Turbo: 1). */
  numInferenceSteps?: number;
  guidanceScale?: number;
  /** Seed of the first image; image i gets seed + i. Absent: the service picks. Keep below 2^53. */
  seed?: number;
  /** img2img start image, any format the service decodes. */
  initImage?: Buffer;
  /** img2img strength, 0..1. */
  strength?: number;
  /** Echoed in every image; the client makes one (a UUID) when absent. */
  requestId?: string;
}

/** One generated image as the client hands it out. */
export interface InferenceImage {
  /** Encoded bytes as the service sent them. They may not be an image at all: check before use. */
  data: Buffer;
  mime: string;
  width: number;
  height: number;
  seed: number;
  index: number;
  inferenceMs: number;
  requestId: string;
  /** The endpoint that made it ("host:port"). */
  endpoint: string;
  /** The model that made it (`model_name` from the endpoint's GetInfo), once the endpoint said. */
  model?: string;
}

export interface StreamImagesOptions {
  signal: AbortSignal;
  /** Epoch ms after which gRPC ends the call (and the service sees it cancelled). */
  deadline: number;
  endpoint: string;
}

/**
 * Starts the call and yields each image as it arrives. Every image the service sent before a
 * failure is yielded before the failure is thrown: they are good images. Aborting `signal` or
 * leaving the loop early cancels the call, which the service sees as CANCELLED.
 * Throws the grpc-js ServiceError as is; the caller maps it.
 */
export async function* streamImages(
  generator: ImageGeneratorClient,
  request: InferenceRequest,
  { signal, deadline, endpoint }: StreamImagesOptions,
): AsyncGenerator<InferenceImage> {
  signal.throwIfAborted();
  const call = generator.generate(toMessage(request), { deadline });
  const queue: GeneratedImageMessage[] = [];
  let failure: Error | undefined;
  let settled = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };
  call.on('data', (message: GeneratedImageMessage) => {
    queue.push(message);
    notify();
  });
  // grpc-js emits 'error' just before 'status'. Keep it for the throw below; with no listener
  // at all, an error event on a stream the caller stopped reading would crash the process.
  call.on('error', (err: Error) => {
    failure = err;
  });
  call.on('status', () => {
    settled = true;
    notify();
  });
  const onAbort = () => call.cancel();
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    for (;;) {
      const message = queue.shift();
      if (message) {
        yield toImage(message, endpoint);
      } else if (settled) {
        if (failure) throw failure;
        return;
      } else {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
      }
    }
  } finally {
    signal.removeEventListener('abort', onAbort);
    // A no-op once the status arrived; otherwise the caller stopped early and the service
    // MUST stop generating images no one reads.
    if (!settled) call.cancel();
  }
}

function toMessage(request: InferenceRequest): GenerateRequest {
  const message: GenerateRequest = {
    prompt: request.prompt,
    negativePrompt: request.negativePrompt ?? '',
    width: request.width ?? 0,
    height: request.height ?? 0,
    numImages: request.numImages ?? 1,
    numInferenceSteps: request.numInferenceSteps ?? 0,
    guidanceScale: request.guidanceScale ?? 0,
    initImage: request.initImage ?? Buffer.alloc(0),
    strength: request.strength ?? 0,
    requestId: request.requestId ?? '',
  };
  // `optional` in the proto: leaving it out (not 0) is what tells the service to pick.
  if (request.seed !== undefined) message.seed = request.seed;
  return message;
}

function toImage(message: GeneratedImageMessage, endpoint: string): InferenceImage {
  return {
    data: message.data,
    mime: message.mime,
    width: message.width,
    height: message.height,
    seed: message.seed,
    index: message.index,
    inferenceMs: message.inferenceMs,
    requestId: message.requestId,
    endpoint,
  };
}
