import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { EaselError, isEaselError, type ErrorCode } from '../errors.js';
import type { Logger } from '../logger.js';
import { statusLine } from '../transport/http-reply.js';
import { bearerOf, sameToken, tokenFingerprint, tokenKey } from './auth.js';
import type { AuthFailures } from './auth-failures.js';
import type { HostPolicy } from './host-policy.js';
import type { createRateLimiter } from './rate-limit.js';
import { redact } from './redact.js';

export interface ApiRequest {
  method: string;
  path: string;
  params: Record<string, string>;
  query: URLSearchParams;
  headers: Record<string, string>;
  remoteAddress: string;
  body: Buffer;
  /** The request brought the operator token (or the server has none: loopback only). */
  operator: boolean;
  /** Addresses and server paths may be shown to this reader (operator, or operator.openReads). */
  seesAll: boolean;
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
  /** Shows a canvas's pictures: needs the display token or the operator token when one is set. */
  view?: boolean;
  /** Content types a body may come as (`image/*` matches any image); JSON when left out. */
  accepts?: readonly string[];
  /** Largest body accepted, bytes; larger gets 413. Defaults to 64 KiB. */
  maxBody?: number;
}

const STATUS_BY_CODE: Partial<Record<ErrorCode, number>> = {
  EASEL_ERR_REQUEST_INVALID: 400,
  EASEL_ERR_SLUG_INVALID: 400,
  EASEL_ERR_AUTH_REQUIRED: 401,
  EASEL_ERR_AUTH_INVALID: 403,
  EASEL_ERR_ORIGIN_NOT_ALLOWED: 403,
  EASEL_ERR_HOST_NOT_ALLOWED: 421,
  EASEL_ERR_CONTENT_TYPE: 415,
  EASEL_ERR_AUTH_THROTTLED: 429,
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
  EASEL_ERR_REDIS_UNAVAILABLE: 503,
  EASEL_ERR_CANVAS_MOVING: 503,
  EASEL_ERR_NODE_TIMEOUT: 504,
};

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Operator token required',
  403: 'Operator token not accepted',
  404: 'Not found',
  409: 'Not possible in this configuration',
  413: 'Too large',
  415: 'Not an image',
  421: 'Host not allowed',
  422: 'Image cannot be shown',
  429: 'Too many requests',
  500: 'Internal error',
  503: 'Unavailable',
  504: 'No answer in time',
};

const TITLE_BY_CODE: Partial<Record<ErrorCode, string>> = {
  EASEL_ERR_ORIGIN_NOT_ALLOWED: 'Request from another site refused',
  EASEL_ERR_CONTENT_TYPE: 'Unsupported content type',
  EASEL_ERR_AUTH_THROTTLED: 'Too many wrong tokens',
  EASEL_ERR_CANVAS_MOVING: 'Canvas moving to another node',
};

export interface ApiOptions {
  logger: Logger;
  /** Current operator token; undefined leaves mutating routes open (loopback only). */
  token: () => string | undefined;
  /** `displays.token`: when set, routes that show pictures need it (or the operator token). */
  displayToken?: string | undefined;
  /** `operator.openReads`: show addresses and server paths to readers without the token. */
  openReads?: boolean;
  limiter: ReturnType<typeof createRateLimiter>;
  authFailures: AuthFailures;
  hosts: HostPolicy;
  isClosing: () => boolean;
}

const JSON_TYPES = ['application/json', 'application/*+json'];

/** `application/json; charset=utf-8` against `application/json`, `image/*`, `application/*+json`. */
export function contentTypeMatches(header: string, accepted: readonly string[]): boolean {
  const type = header.split(';')[0]!.trim().toLowerCase();
  const [major = '', minor = ''] = type.split('/');
  return accepted.some((a) => {
    const [am, an = ''] = a.split('/');
    if (am !== major) return false;
    if (an === '*') return minor !== '';
    if (an.startsWith('*+')) return minor.endsWith(an.slice(1));
    return an === minor;
  });
}

/** JSON routes on uWS: request capture, auth, rate limits, body limits and problem replies. */
export function createApi(app: TemplatedApp, options: ApiOptions) {
  const { logger: log, limiter } = options;

  function problemFor(err: unknown): ApiReply {
    if (isEaselError(err)) {
      const status =
        STATUS_BY_CODE[err.code] ??
        (err.code.startsWith('EASEL_ERR_INFERENCE') ? 503 : err.code.startsWith('EASEL_ERR_PLAYLIST') ? 400 : 500);
      const retry =
        typeof err.details.retryAfterSeconds === 'number' ? { 'retry-after': String(err.details.retryAfterSeconds) } : undefined;
      const { retryAfterSeconds: _r, title: given, ...details } = err.details;
      const title = typeof given === 'string' ? given : (TITLE_BY_CODE[err.code] ?? TITLES[status] ?? 'Error');
      return {
        status,
        contentType: 'application/problem+json',
        json: { type: `urn:easel:error:${err.code}`, title, status, detail: err.message, hint: err.hint, code: err.code, ...details },
        ...(retry ? { headers: retry } : {}),
      };
    }
    log.error({ err }, 'Unexpected error in an API route');
    return {
      status: 500,
      contentType: 'application/problem+json',
      json: {
        type: 'about:blank',
        title: TITLES[500],
        status: 500,
        detail: 'Something went wrong inside Easel',
        hint: 'The server log has the details',
      },
    };
  }

  function send(res: HttpResponse, reply: ApiReply) {
    const type = reply.contentType ?? (reply.json !== undefined ? 'application/json' : 'application/octet-stream');
    const { 'cache-control': caching = 'no-store', ...headers } = reply.headers ?? {};
    res.writeStatus(statusLine(reply.status)).writeHeader('content-type', type).writeHeader('cache-control', caching);
    for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
    if (reply.status === 401) res.writeHeader('www-authenticate', 'Bearer realm="easel"');
    res.end(reply.json !== undefined ? JSON.stringify(reply.json) : (reply.body ?? ''));
  }

  const throttled = (seconds: number) =>
    new EaselError('EASEL_ERR_AUTH_THROTTLED', `Too many wrong tokens from this address: wait ${seconds} s before sending a token again`, {
      hint: 'Use the right token (EASEL_OPERATOR_TOKEN, or EASEL_DISPLAY_TOKEN for displays); the wait doubles with each further wrong token',
      details: { retryAfterSeconds: seconds },
    });

  /**
   * Everything decided before a handler runs, in this order: shutting down, the Host (DNS
   * rebinding), the Origin of commands (CSRF), an address that has been guessing tokens (before
   * any token is compared), the token itself, the body's content type, then the rate limit. A
   * wrong token is counted against its address whether the route needed it or not, so reading
   * routes (which show more to the operator) are no oracle for guessing either.
   */
  function guard(req: ApiRequest, routeOptions: RouteOptions): void {
    if (options.isClosing())
      throw new EaselError('EASEL_ERR_SERVER_CLOSING', 'The server is shutting down', { hint: 'Try again once it is back' });
    const { host, origin } = req.headers;
    if (!options.hosts.hostAllowed(host)) {
      throw new EaselError('EASEL_ERR_HOST_NOT_ALLOWED', `Host "${String(host).slice(0, 200)}" is not a name this server answers to`, {
        hint: "Use the server's address or host name, or add this name to http.allowedHosts (EASEL_ALLOWED_HOSTS)",
        details: { host: String(host).slice(0, 200), key: 'http.allowedHosts' },
      });
    }
    const mutating = routeOptions.mutating === true;
    if (mutating && !options.hosts.originAllowed(origin, host)) {
      throw new EaselError(
        'EASEL_ERR_ORIGIN_NOT_ALLOWED',
        `A page from ${JSON.stringify(String(origin).slice(0, 200))} may not send commands to this server`,
        {
          hint: 'Use the console on this server, curl or the CLI; to allow another page, add its host to http.allowedHosts',
          details: { origin: String(origin).slice(0, 200), key: 'http.allowedHosts' },
        },
      );
    }
    const bearer = bearerOf(req.headers.authorization);
    // EventSource and <img> cannot send headers, so reading routes take ?token= as well.
    const presented = bearer ?? (mutating ? undefined : req.query.get('token') || undefined);
    const opToken = options.token();
    const displayToken = options.displayToken;
    let operator = opToken === undefined;
    let viewer = !displayToken;
    if (presented !== undefined && (opToken || displayToken)) {
      const wait = options.authFailures.waitSeconds(req.remoteAddress);
      if (wait > 0) throw throttled(wait);
      const isOperator = opToken !== undefined && sameToken(presented, opToken);
      const isDisplay = displayToken !== undefined && sameToken(presented, displayToken);
      if (isOperator || isDisplay) {
        options.authFailures.succeeded(req.remoteAddress);
        operator ||= isOperator;
        viewer = true;
      } else {
        options.authFailures.failed(req.remoteAddress, tokenFingerprint(presented));
        if (mutating || (routeOptions.view && displayToken)) {
          throw new EaselError(
            'EASEL_ERR_AUTH_INVALID',
            mutating ? 'The operator token is not right' : 'The token is neither the display token nor the operator token',
            {
              hint: mutating
                ? 'Use the token from EASEL_OPERATOR_TOKEN (or the one printed at start)'
                : 'Add ?token=<the display token> (EASEL_DISPLAY_TOKEN), or send the operator token',
              ...(mutating ? {} : { details: { title: 'Token not accepted' } }),
            },
          );
        }
      }
    }
    req.operator = operator;
    req.seesAll = operator || options.openReads === true;
    if (routeOptions.view && !viewer) {
      throw new EaselError('EASEL_ERR_AUTH_REQUIRED', 'This server only shows its canvases to displays that bring its display token', {
        hint: 'Add ?token=<the display token> (EASEL_DISPLAY_TOKEN) to the address, or send the operator token as "Authorization: Bearer <token>"',
        details: { title: 'Display token required' },
      });
    }
    if (!mutating) return;
    if (!operator) {
      throw new EaselError('EASEL_ERR_AUTH_REQUIRED', 'This route needs the operator token', {
        hint: 'Send the header "Authorization: Bearer <token>"; the token is EASEL_OPERATOR_TOKEN, or the one printed at start',
      });
    }
    if (req.method === 'post' || req.method === 'put') checkContentType(req, routeOptions.accepts ?? JSON_TYPES);
    for (const key of [`a:${req.remoteAddress}`, tokenKey(req.headers.authorization ?? '')]) {
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

  /**
   * A browser form can only post text/plain, urlencoded or multipart bodies without asking the
   * server first, so requiring the route's own type keeps other sites' forms out. No body, no
   * type needed (`curl -X POST .../next`).
   */
  function checkContentType(req: ApiRequest, accepted: readonly string[]): void {
    const type = req.headers['content-type'];
    const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
    if (type === undefined ? !hasBody : contentTypeMatches(type, accepted)) return;
    const example =
      accepted === JSON_TYPES ? "-H 'content-type: application/json'" : `-H 'content-type: ${accepted[0]!.replace('*', 'jpeg')}'`;
    throw new EaselError(
      'EASEL_ERR_CONTENT_TYPE',
      `content-type: ${JSON.stringify((type ?? 'none').slice(0, 100))} is not one of ${accepted.join(', ')}`,
      {
        hint: `Send the body with its type, e.g. curl ${example}`,
        details: { field: 'content-type' },
      },
    );
  }

  /** A request as handlers see it; throws a 400 problem for a malformed path parameter. */
  function capture(res: HttpResponse, raw: HttpRequest, names: readonly string[]): ApiRequest {
    const headers: Record<string, string> = {};
    raw.forEach((k, v) => {
      headers[k] = v;
    });
    return {
      method: raw.getMethod(),
      path: raw.getUrl(),
      params: Object.fromEntries(names.map((n, i) => [n, decodePathPart(n, raw.getParameter(i) ?? '')])),
      query: new URLSearchParams(raw.getQuery() ?? ''),
      headers,
      remoteAddress: Buffer.from(res.getRemoteAddressAsText()).toString(),
      body: Buffer.alloc(0),
      operator: false,
      seesAll: false,
    };
  }

  /** What a reader without the operator token gets: no addresses, no absolute server paths. */
  function shown(req: ApiRequest | undefined, r: ApiReply): ApiReply {
    if (req?.seesAll) return r;
    return {
      ...r,
      ...(r.json !== undefined ? { json: redact(r.json) } : {}),
      ...(typeof r.body === 'string' ? { body: redact(r.body) } : {}),
    };
  }

  /**
   * For routes that answer by themselves (the events stream): the same request capture and
   * guard as `route`. Returns the request, or undefined once a problem has been answered.
   */
  function admit(res: HttpResponse, raw: HttpRequest, routeOptions: RouteOptions = {}): ApiRequest | undefined {
    let req: ApiRequest | undefined;
    try {
      req = capture(res, raw, []);
      guard(req, routeOptions);
      return req;
    } catch (err) {
      send(res, shown(req, problemFor(err)));
      return undefined;
    }
  }

  function route(method: 'get' | 'post' | 'put' | 'del', pattern: string, handler: ApiHandler, routeOptions: RouteOptions = {}) {
    const names = [...pattern.matchAll(/:(\w+)/g)].map((m) => m[1]!);
    const maxBody = routeOptions.maxBody ?? 64 * 1024;
    app[method](pattern, (res: HttpResponse, raw: HttpRequest) => {
      let done = false;
      let req: ApiRequest | undefined;
      res.onAborted(() => (done = true));
      const reply = (r: ApiReply) => {
        if (done) return;
        done = true;
        res.cork(() => send(res, shown(req, r)));
      };
      try {
        req = capture(res, raw, names);
        guard(req, routeOptions);
      } catch (err) {
        reply(problemFor(err));
        return;
      }
      const admitted = req;
      const run = () =>
        Promise.resolve()
          .then(() => handler(admitted))
          .then(reply, (err: unknown) => reply(problemFor(err)));
      if (method === 'get' || method === 'del') {
        void run();
        return;
      }
      const tooLarge = () =>
        reply(
          problemFor(
            new EaselError('EASEL_ERR_BODY_TOO_LARGE', `The body is over the limit of ${maxBody} bytes`, {
              hint: 'Send less: scale an image down, or raise operator.maxBodyBytes',
            }),
          ),
        );
      if (Number(admitted.headers['content-length'] ?? 0) > maxBody) return tooLarge();
      const chunks: Buffer[] = [];
      let size = 0;
      res.onData((chunk, isLast) => {
        if (done) return;
        size += chunk.byteLength;
        if (size > maxBody) return tooLarge();
        chunks.push(Buffer.from(chunk.slice(0))); // uWS reuses the chunk's memory after this call
        if (isLast) {
          admitted.body = Buffer.concat(chunks);
          void run();
        }
      });
    });
  }

  return { route, admit, problemFor, shown };
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
    throw new EaselError('EASEL_ERR_REQUEST_INVALID', `body: is not valid JSON (${(err as Error).message})`, {
      hint: 'Send a JSON object with Content-Type: application/json',
    });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EaselError('EASEL_ERR_REQUEST_INVALID', 'body: must be a JSON object', { hint: 'Send a JSON object like {"prompt": "..."}' });
  }
  return value as Record<string, unknown>;
}
