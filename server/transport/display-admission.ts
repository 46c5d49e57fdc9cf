import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { isLoopbackAddress } from '../api/auth.js';
import type { AuthFailures } from '../api/auth-failures.js';
import type { HostPolicy } from '../api/host-policy.js';
import { createRateLimiter } from '../api/rate-limit.js';
import type { Canvas } from '../canvas/canvas.js';
import type { Registry } from '../canvas/registry.js';
import { parseSlug } from '../canvas/slug.js';
import { isEaselError } from '../errors.js';
import type { Clock } from '../stream/clock.js';
import { parseTile } from '../stream/tile.js';
import type { TilePosition } from '../../protocol/wire.js';
import { createDisplayAccess } from './display-access.js';
import { replyProblem, type Problem } from './http-reply.js';

export interface DisplayLimits {
  maxDisplaysPerCanvas: number;
  maxConnections: number;
  connectionsPerSecond: number;
  connectionBurst: number;
  rateLimitLoopback: boolean;
}

export type RefusalReason =
  | 'closing'
  | 'token'
  | 'badRequest'
  | 'unknownCanvas'
  | 'displaysPerCanvas'
  | 'connections'
  | 'canvases'
  | 'rate';

export interface DisplayAdmissionOptions {
  registry: Registry;
  /** When set, a display must bring ?token=<this> (or the operator token: the console's previews). */
  displayToken?: string | undefined;
  operatorToken?: (() => string | undefined) | undefined;
  /** Wrong tokens per address, shared with the API; a guessing address waits before its next try. */
  authFailures?: AuthFailures | undefined;
  /** With a display token, the Host and Origin are checked as for commands. */
  hosts?: HostPolicy | undefined;
  limits: DisplayLimits;
  clock: Clock;
  isClosing: () => boolean;
  /** Displays connected now, of every kind (WebSocket pages and MJPEG readers): limits.maxConnections caps their sum. */
  connected: () => number;
  /** Cluster mode: displays join declared canvases only (the registry creates none), and the hint says so. */
  clustered?: boolean | undefined;
}

/** What a display route says about itself to the shared checks. */
export interface AdmitRequest<T> {
  /** The route's path before the slug (`/ws/`, `/c/`), for hints. */
  prefix: string;
  /** After it, e.g. `.mjpeg`. */
  suffix?: string;
  slug: string;
  /** The route's own query checks, run before a canvas is looked up or made: a problem refuses with 400. */
  validate: (query: URLSearchParams) => { ok: true; value: T } | { ok: false; problem: Problem };
}

export interface Admitted<T> {
  canvas: Canvas;
  query: URLSearchParams;
  remoteAddress: string;
  tile: TilePosition | undefined;
  value: T;
}

export type DisplayAdmission = ReturnType<typeof createDisplayAdmission>;

/**
 * The checks every new display passes, whatever it speaks (a page over WebSocket, an MJPEG
 * reader): shutting down, token and host, connections a second per address, the connection and
 * per-canvas limits, a valid slug, a known canvas and a tile of its wall. Shared by the routes so
 * a reader of one kind counts against the limits of the other. A refusal is answered here.
 */
export function createDisplayAdmission(options: DisplayAdmissionOptions) {
  const { registry, limits } = options;
  const clustered = options.clustered === true;
  const refused: Record<RefusalReason, number> = {
    closing: 0,
    token: 0,
    badRequest: 0,
    unknownCanvas: 0,
    displaysPerCanvas: 0,
    connections: 0,
    canvases: 0,
    rate: 0,
  };
  const perAddress = createRateLimiter({
    perMinute: limits.connectionsPerSecond * 60,
    burst: limits.connectionBurst,
    clock: options.clock,
  });
  const access = options.displayToken
    ? createDisplayAccess({
        displayToken: options.displayToken,
        operatorToken: options.operatorToken,
        authFailures: options.authFailures,
        hosts: options.hosts,
      })
    : undefined;

  const full = (res: HttpResponse, reason: RefusalReason, detail: string, hint: string) => {
    refused[reason]++;
    replyProblem(res, 503, { title: 'Limit reached', detail, hint, code: 'EASEL_ERR_LIMIT_REACHED' });
  };
  const bad = (res: HttpResponse, problem: Problem) => {
    refused.badRequest++;
    replyProblem(res, 400, { code: 'EASEL_ERR_REQUEST_INVALID', ...problem });
  };

  function admit<T>(res: HttpResponse, req: HttpRequest, ask: AdmitRequest<T>): Admitted<T> | undefined {
    if (options.isClosing()) {
      refused.closing++;
      replyProblem(res, 503, {
        title: 'Shutting down',
        detail: 'The server is shutting down and takes no new displays',
        hint: 'The display reconnects by itself once the server is back',
        code: 'EASEL_ERR_SERVER_CLOSING',
      });
      return undefined;
    }
    // Parsed in JS like the API's queries: a malformed escape is then only a bad value.
    const query = new URLSearchParams(req.getQuery() ?? '');
    const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();
    const refusal = access?.(req, query, remoteAddress);
    if (refusal) {
      refused.token++;
      replyProblem(res, refusal.status, refusal.problem, refusal.headers);
      return undefined;
    }
    const exempt = !limits.rateLimitLoopback && isLoopbackAddress(remoteAddress);
    const verdict = exempt ? { ok: true as const } : perAddress.take(remoteAddress);
    if (!verdict.ok) {
      refused.rate++;
      const problem = {
        title: 'Too many connections',
        detail: `Address ${remoteAddress} opened more than ${limits.connectionsPerSecond} display connections a second`,
        hint: 'A display reconnecting in a loop? Displays back off by themselves; raise limits.connectionsPerSecond for many displays behind one address',
        code: 'EASEL_ERR_LIMIT_REACHED',
      };
      replyProblem(res, 429, problem, { 'retry-after': String(verdict.retryAfterSeconds) });
      return undefined;
    }
    const connected = options.connected();
    if (connected >= limits.maxConnections) {
      full(res, 'connections', `The server has ${connected} displays, its limit`, 'Raise limits.maxConnections if the box can take more');
      return undefined;
    }
    const suffix = ask.suffix ?? '';
    const check = parseSlug(ask.slug);
    if (!check.ok) {
      bad(res, {
        title: 'Invalid canvas slug',
        detail: check.reason,
        hint: `Use lowercase letters, digits and dashes, e.g. ${ask.prefix}left-canva${suffix}`,
        code: 'EASEL_ERR_SLUG_INVALID',
      });
      return undefined;
    }
    const valid = ask.validate(query);
    if (!valid.ok) {
      bad(res, valid.problem);
      return undefined;
    }
    let canvas: Canvas | undefined;
    try {
      canvas = registry.getOrCreate(check.slug);
    } catch (err) {
      if (!isEaselError(err, 'EASEL_ERR_LIMIT_REACHED')) throw err;
      full(res, 'canvases', err.message, err.hint);
      return undefined;
    }
    if (!canvas) {
      refused.unknownCanvas++;
      const near = registry.notFound(check.slug).details.didYouMean as string | undefined;
      replyProblem(res, 404, {
        title: 'No such canvas',
        detail: `Canvas "${check.slug}" is not declared${near ? `: did you mean "${near}"?` : ''}`,
        hint: near
          ? `Open ${ask.prefix}${near}${suffix}`
          : clustered
            ? 'In a cluster displays join declared canvases only: declare it under canvases in the config of every node'
            : 'Declare it under canvases in the config, or set createCanvasesOnConnect to true',
        code: 'EASEL_ERR_NOT_FOUND',
      });
      return undefined;
    }
    if (canvas.channel.displays.size >= limits.maxDisplaysPerCanvas) {
      full(
        res,
        'displaysPerCanvas',
        `Canvas "${canvas.slug}" has ${canvas.channel.displays.size} displays, its limit`,
        'Raise limits.maxDisplaysPerCanvas if the box can take more',
      );
      return undefined;
    }
    const tileParam = query.get('tile');
    const tile = tileParam === null ? undefined : parseTile(tileParam, canvas.config.tiles, canvas.slug);
    if (tile && !tile.ok) {
      bad(res, { title: 'Invalid tile', detail: tile.reason, hint: tile.hint });
      return undefined;
    }
    return { canvas, query, remoteAddress, tile: tile?.tile, value: valid.value };
  }

  return { admit, refused };
}
