/**
 * Turns a failed gRPC call into a catalog error, so the canvas, /readyz and the operator API
 * speak of "the inference service is unavailable" with a hint, never of "14 UNAVAILABLE".
 * The codes the service is told to use are listed in proto/easel/inference/v1/inference.proto.
 */
import { status as GrpcStatus, type ServiceError } from '@grpc/grpc-js';
import { EaselError, type ErrorCode } from '../errors.js';

/**
 * How to start the dev stand-in where Easel looks for it: the configured address, never a
 * port a technician would have to translate. "[::1]:6000" gives `--host ::1 --port 6000`.
 */
export function devServiceTip(endpoint: string): string {
  const match = /^\[?(.*?)\]?:(\d+)$/.exec(endpoint);
  if (!match) return '`npm run inference:dev` for the dev stand-in';
  const [, host, port] = match;
  const hostFlag = host === '127.0.0.1' ? '' : ` --host ${host}`;
  return `\`npm run inference:dev --${hostFlag} --port ${port}\` for the dev stand-in`;
}

/** True for errors grpc-js produced for a call (they carry a numeric status code). */
export function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';
}

/**
 * grpc-js's status details with its boilerplate taken off, for messages people read:
 * "No connection established. Last error: Error: connect ECONNREFUSED 10.0.0.7:50051.
 * Resolution note: " becomes "connect ECONNREFUSED 10.0.0.7:50051".
 */
export function plainDetails(details: string): string {
  return details
    .replace(/\s*Resolution note:.*$/s, '')
    .replace(/^No connection established\. Last error: (Error: )?/, '')
    .replace(/\.$/, '')
    .trim();
}

/** The status code's name ("UNAVAILABLE"), for logs and details. */
export function grpcStatusName(code: number): string {
  return GrpcStatus[code] ?? `STATUS_${code}`;
}

/**
 * Maps a gRPC failure from `endpoint` ("host:port") to an EaselError with a code and a hint.
 * Anything that is not a gRPC error (a bug) is returned unchanged, so it keeps its stack.
 *
 * @example
 * call.on('error', (err) => reject(toInferenceError(err, '10.0.0.7:50051')));
 */
export function toInferenceError(err: unknown, endpoint: string): unknown {
  if (!isServiceError(err)) return err;
  const grpcCode = grpcStatusName(err.code);
  const details = { endpoint, grpcCode };
  const said = plainDetails(err.details || err.message);
  const make = (code: ErrorCode, message: string, hint: string) =>
    new EaselError(code, `${message}: ${said}`, { hint, cause: err, details });

  switch (err.code) {
    case GrpcStatus.UNAVAILABLE:
    case GrpcStatus.CANCELLED:
      // CANCELLED reaches here only when the service ended the call itself (it was shut down
      // mid-call); calls Easel cancels are reported as aborts before this is consulted.
      return make(
        'EASEL_ERR_INFERENCE_UNAVAILABLE',
        `Inference service at "${endpoint}" is unavailable`,
        `Check that the service runs and listens at "${endpoint}" (${devServiceTip(endpoint)}) and that inference.endpoints names it; Easel retries by itself`,
      );
    case GrpcStatus.RESOURCE_EXHAUSTED:
      return make(
        'EASEL_ERR_INFERENCE_BUSY',
        `Inference service at "${endpoint}" is out of capacity`,
        'Ask for fewer images per call or a smaller size, or add another endpoint to inference.endpoints; Easel retries after a pause',
      );
    case GrpcStatus.DEADLINE_EXCEEDED:
      return make(
        'EASEL_ERR_INFERENCE_TIMEOUT',
        `Inference call to "${endpoint}" ran past its deadline`,
        'If the GPU is just slow, raise the inference deadline; otherwise look in the service log for a stuck call',
      );
    case GrpcStatus.INVALID_ARGUMENT:
    case GrpcStatus.OUT_OF_RANGE:
    case GrpcStatus.FAILED_PRECONDITION:
      return make(
        'EASEL_ERR_INFERENCE_REJECTED',
        `Inference service at "${endpoint}" refused the request`,
        "Check the canvas's image size, steps, batch size and strength against what the service supports (its GetInfo answer)",
      );
    case GrpcStatus.UNIMPLEMENTED:
      return make(
        'EASEL_ERR_INFERENCE_FAILED',
        `Endpoint "${endpoint}" does not serve easel.inference.v1.ImageGenerator`,
        'Point inference.endpoints at an Easel inference service; the address may belong to another program',
      );
    case GrpcStatus.UNAUTHENTICATED:
    case GrpcStatus.PERMISSION_DENIED:
      return make(
        'EASEL_ERR_INFERENCE_REJECTED',
        `Inference service at "${endpoint}" refused the client`,
        'The service expects credentials Easel does not send; run it without authentication on a private network',
      );
    default:
      return make(
        'EASEL_ERR_INFERENCE_FAILED',
        `Inference service at "${endpoint}" failed`,
        "Look in the inference service's log for the error; Easel retries after a pause",
      );
  }
}

/**
 * Whether a failure says the endpoint itself cannot take calls (so another endpoint may), as
 * opposed to a problem with this request.
 */
export function isEndpointFailure(err: unknown): boolean {
  return err instanceof EaselError && (err.code === 'EASEL_ERR_INFERENCE_UNAVAILABLE' || err.code === 'EASEL_ERR_INFERENCE_BUSY');
}
