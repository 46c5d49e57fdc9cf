import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { EaselError, isEaselError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { statusLine } from '../transport/http-reply.js';
import { checkBearer, tokenKey } from './auth.js';
import type { createRateLimiter } from './rate-limit.js';

export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string>;
  remoteAddress: string;
  body: Buffer;
}

export interface ApiReply {
  status: number;
  json?: unknown;
  body?: Buffer | string;
  contentType?: string;
  headers?: Record<string, string>;
}

export type ApiHandler = (req: ApiRequest) => ApiReply | Promise<ApiReply>;

export interface RouteOptions {
  /** Needs the operator token and counts against the rate limit. */
  mutating?: boolean;
  /** Largest body accepted, bytes; larger gets 413. Defaults to 64 KiB. */
  maxBody?: number;
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  EASEL_ERR_REQUEST_INVALID: 400,
  EASEL_ERR_SLUG_INVALID: 400,
  EASEL_ERR_AUTH_REQUIRED: 401,
  EASEL_ERR_AUTH_INVALID: 403,
  EASEL_ERR_NOT_FOUND: 404,
  EASEL_ERR_INFERENCE_NOT_CONFIGURED: 409,
  EASEL_ERR_CANVAS_DECLARED: 409,
  EASEL_ERR_BODY_TOO_LARGE: 413,
  EASEL_ERR_IMAGE_TOO_LARGE: 413,
  EASEL_ERR_UNSUPPORTED_MEDIA: 415,
  EASEL_ERR_IMAGE_UNREADABLE: 422,
  EASEL_ERR_RATE_LIMITED: 429,
  EASEL_ERR_SERVER_CLOSING: 503,
  EASEL_ERR_INFERENCE_UNAVAILABLE: 503,
  EASEL_ERR_INFERENCE_BUSY: 503,
};

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Operator token required',
  403: 'Operator token not accepted',
  404: 'Not found',
  409: 'Not possible in this configuration',
  413: 'Too large',
  415: 'Not an image',
  422: 'Image cannot be shown',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Unavailable',
};

export interface ApiOptions {
  logger: Logger;
  /** Current operator token; undefined leaves mutating routes open (loopback only). */
  token: () => string | undefined;
  limiter: ReturnType<typeof createRateLimiter>;
  isClosing: () => boolean;
}

/** JSON routes on uWS: request capture, auth, rate limits, body limits and problem replies. */
export function createApi(app: TemplatedApp, options: ApiOptions) {
  const { logger: log, limiter } = options;

  function problemFor(err: unknown): ApiReply {
    if (isEaselError(err)) {
      const status = STATUS_BY_CODE[err.code] ?? (err.code.startsWith('EASEL_ERR_INFERENCE') ? 503 : err.code.startsWith('EASEL_ERR_PLAYLIST') ? 400 : 500);
      const retry = typeof err.details.retryAfterSeconds === 'number' ? { 'retry-after': String(err.details.retryAfterSeconds) } : undefined;
      const { retryAfterSeconds: _r, ...details } = err.details;
      return {
        status,
        contentType: 'application/problem+json',
        json: { type: `urn:easel:error:${err.code}`, title: TITLES[status] ?? 'Error', status, detail: err.message, hint: err.hint, code: err.code, ...details },
        ...(retry ? { headers: retry } : {}),
      };
    }
    log.error({ err }, 'Unexpected error in an API route');
    return { status: 500, contentType: 'application/problem+json', json: { type: 'about:blank', title: TITLES[500], status: 500, detail: 'Something went wrong inside Easel', hint: 'The server log has the details' } };
  }

  function send(res: HttpResponse, reply: ApiReply) {
    const type = reply.contentType ?? (reply.json !== undefined ? 'application/json' : 'application/octet-stream');
    res.writeStatus(statusLine(reply.status)).writeHeader('content-type', type).writeHeader('cache-control', 'no-store');
    for (const [k, v] of Object.entries(reply.headers ?? {})) res.writeHeader(k, v);
    if (reply.status === 401) res.writeHeader('www-authenticate', 'Bearer realm="easel"');
    res.end(reply.json !== undefined ? JSON.stringify(reply.json) : (reply.body ?? ''));
  }

  function guard(req: ApiRequest, mutating: boolean): void {
    if (options.isClosing()) throw new EaselError('EASEL_ERR_SERVER_CLOSING', 'The server is shutting down', { hint: 'Try again once it is back' });
    if (!mutating) return;
    const auth = req.headers.authorization ?? '';
    checkBearer(auth, options.token());
    for (const key of [`a:${req.remoteAddress}`, tokenKey(auth)]) {
      if (!key) continue;
      const verdict = limiter.take(key);
      if (!verdict.ok) {
        throw new EaselError('EASEL_ERR_RATE_LIMITED', `Too many commands: wait ${verdict.retryAfterSeconds} s`, {
          hint: 'Send commands less often, or raise operator.rateLimit.perMinute',
          details: { retryAfterSeconds: verdict.retryAfterSeconds },
        });
      }
    }
  }

  function route(method: 'get' | 'post' | 'put' | 'del', pattern: string, handler: ApiHandler, routeOptions: RouteOptions = {}) {
    const names = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const maxBody = routeOptions.maxBody ?? 64 * 1024;
    app[method](pattern, (res: HttpResponse, raw: HttpRequest) => {
      let done = false;
      res.onAborted(() => (done = true));
      const headers: Record<string, string> = {};
      raw.forEach((k, v) => (headers[k] = v));
      const reply = (r: ApiReply) => {
        if (done) return;
        done = true;
        res.cork(() => send(res, r));
      };
      let req: ApiRequest;
      try {
        req = {
          method: raw.getMethod(),
          path: raw.getUrl(),
          params: Object.fromEntries(names.map((n, i) => [n, decodePathPart(n, raw.getParameter(i) ?? '')])),
          query: new URLSearchParams(raw.getQuery() ?? ''),
          headers,
          remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
          body: Buffer.alloc(0),
        };
      } catch (err) {
        reply(problemFor(err));
        return;
      }
      const run = () =>
        Promise.resolve()
          .then(() => handler(req))
          .then(reply, (err: unknown) => reply(problemFor(err)));

      try {
        guard(req, routeOptions.mutating === true);
      } catch (err) {
        reply(problemFor(err));
        return;
      }
      if (method === 'get' || method === 'del') {
        void run();
        return;
      }
      const tooLarge = () =>
        reply(problemFor(new EaselError('EASEL_ERR_BODY_TOO_LARGE', `The body is over the limit of ${maxBody} bytes`, { hint: 'Send less: scale an image down, or raise operator.maxBodyBytes' })));
      if (Number(headers['content-length'] ?? 0) > maxBody) return tooLarge();
      const chunks: Buffer[] = [];
      let size = 0;
      res.onData((chunk, isLast) => {
        if (done) return;
        size += chunk.byteLength;
        if (size > maxBody) return tooLarge();
        chunks.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory after this call
        if (isLast) {
          req.body = Buffer.concat(chunks);
          void run();
        }
      });
    });
  }

  return { route, problemFor };
}

/**
 * Decodes one percent-encoded path segment. A malformed encoding (`%E0%A4%A`) is the client's
 * mistake: a 400 naming the parameter, never a URIError thrown out of a handler.
 */
export function decodePathPart(name: string, raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new EaselError('EASEL_ERR_REQUEST_INVALID', `${name}: ${JSON.stringify(raw.slice(0, 200))} is not valid percent-encoding`, {
      hint: 'Encode the path with encodeURIComponent, or use plain letters, digits and dashes',
    });
  }
}

/** Parses a JSON body into an object, or says what is wrong with it. */
export function jsonBody(req: ApiRequest): Record<string, unknown> {
  if (req.body.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(req.body.toString('utf8'));
  } catch (err) {
    throw new EaselError('EASEL_ERR_REQUEST_INVALID', `body: is not valid JSON (${(err as Error).message})`, { hint: 'Send a JSON object with Content-Type: application/json' });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EaselError('EASEL_ERR_REQUEST_INVALID', 'body: must be a JSON object', { hint: 'Send a JSON object like {"prompt": "..."}' });
  }
  return value as Record<string, unknown>;
}
