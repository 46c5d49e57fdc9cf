/**
 * The error catalog. Every error Easel reports to a person has a stable code, a message that
 * says what happened (sentence case, values quoted, no trailing period) and a hint that says
 * what to do. docs/errors.md lists every code; a test keeps the two in step.
 */
export const ERROR_CODES = {
  EASEL_ERR_CONFIG_INVALID: 'A configuration value is not allowed',
  EASEL_ERR_LISTEN_FAILED: 'The server could not listen on its host and port',
  EASEL_ERR_SLUG_INVALID: 'A canvas slug is not allowed',
  EASEL_ERR_SERVER_CLOSING: 'The server is shutting down and takes no new displays',
  EASEL_ERR_FOLDER_MISSING: 'A folder source points at a folder that cannot be read',
  EASEL_ERR_FOLDER_EMPTY: 'A folder source has no usable images',
  EASEL_ERR_IMAGE_UNREADABLE: 'An image could not be decoded and is skipped',
  EASEL_ERR_IMAGE_TOO_LARGE: 'An image is over the pixel or file size limit and is skipped',
  EASEL_ERR_DISPLAY_TOO_SLOW: 'A display could not take frames for too long and was closed',
  EASEL_ERR_INFERENCE_UNAVAILABLE: 'No inference service answers, or the one asked cannot generate right now',
  EASEL_ERR_INFERENCE_BUSY: 'The inference service is out of capacity (queue full or out of GPU memory)',
  EASEL_ERR_INFERENCE_TIMEOUT: 'An inference call ran past its deadline',
  EASEL_ERR_INFERENCE_REJECTED: 'The inference service refused a request as invalid',
  EASEL_ERR_INFERENCE_FAILED: 'The inference service failed while generating',
  EASEL_ERR_INFERENCE_BAD_IMAGE: 'The inference service returned bytes that do not decode as an image; they are skipped',
  EASEL_ERR_INFERENCE_STALLED: 'The inference service sent no image for longer than the buffer lasts; the call is cancelled and retried',
  EASEL_ERR_NOT_FOUND: 'The canvas, job or playlist asked for does not exist',
  EASEL_ERR_CANVAS_DECLARED: 'A canvas declared in the config cannot be removed through the API',
  EASEL_ERR_REQUEST_INVALID: 'A request field is missing or not allowed; the message names the field',
  EASEL_ERR_AUTH_REQUIRED: 'A route that needs the operator token (or, when one is set, the display token) was called without it',
  EASEL_ERR_AUTH_INVALID: 'The token sent is not the configured operator (or display) token',
  EASEL_ERR_BODY_TOO_LARGE: 'A request body is over the configured limit',
  EASEL_ERR_RATE_LIMITED: 'Too many commands from one client or token in a short time',
  EASEL_ERR_UNSUPPORTED_MEDIA: 'An uploaded file is not an image Easel can show',
  EASEL_ERR_INFERENCE_NOT_CONFIGURED: 'A prompt was sent but no inference service is configured',
  EASEL_ERR_OSC_LISTEN_FAILED: 'The OSC listener could not bind its UDP host and port',
  EASEL_ERR_PLAYLIST_INVALID: 'A playlist file or body is not valid; the message names the file, line and column',
  EASEL_ERR_LIMIT_REACHED: 'A connection or canvas was refused because a configured limit is reached',
  EASEL_ERR_HOST_NOT_ALLOWED: 'A request named a Host this server does not answer to (DNS rebinding protection)',
  EASEL_ERR_ORIGIN_NOT_ALLOWED: 'A browser page from another site tried to send a command (CSRF protection)',
  EASEL_ERR_CONTENT_TYPE: 'A request body was sent without the content type its route takes',
  EASEL_ERR_AUTH_THROTTLED: 'Too many wrong tokens from one address: it must wait before trying again',
  EASEL_ERR_REDIS_UNAVAILABLE: 'In cluster mode, Redis cannot be reached; the node serves its own displays alone meanwhile',
  EASEL_ERR_CLOCK_UNSYNCED:
    "In cluster mode, this node cannot tell the cluster's (Redis's) time to within 50 ms; its screens may change out of step with other nodes'",
  EASEL_ERR_CANVAS_MOVING: 'In cluster mode, no node produces the canvas right now (failover or handover); try again in a moment',
  EASEL_ERR_NODE_TIMEOUT: 'In cluster mode, the node producing the canvas did not answer a forwarded command in time',
  EASEL_ERR_ARCHIVE_PAUSED: "Archiving is paused: the archive's disk has less free space than archive.minFreeMb",
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface EaselErrorOptions {
  hint: string;
  cause?: unknown;
  /** Facts for the log and the API: key, value, path, ... */
  details?: Record<string, unknown>;
}

export class EaselError extends Error {
  override readonly name = 'EaselError';
  readonly code: ErrorCode;
  readonly hint: string;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, options: EaselErrorOptions) {
    super(message, { cause: options.cause });
    this.code = code;
    this.hint = options.hint;
    this.details = options.details ?? {};
  }

  /** A plain object for logs and API replies: never the stack, never the cause's internals. */
  toJSON(): { code: ErrorCode; message: string; hint: string } & Record<string, unknown> {
    return { code: this.code, message: this.message, hint: this.hint, ...this.details };
  }
}

export function isEaselError(err: unknown, code?: ErrorCode): err is EaselError {
  return err instanceof EaselError && (code === undefined || err.code === code);
}
