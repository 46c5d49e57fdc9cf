import uWS, { type HttpResponse, type TemplatedApp, type WebSocket } from 'uWebSockets.js';
import type { HelloMessage, TilePosition, WireFormat } from '../../protocol/wire.js';
import { isLoopbackAddress } from '../api/auth.js';
import type { AuthFailures } from '../api/auth-failures.js';
import type { HostPolicy } from '../api/host-policy.js';
import { createRateLimiter } from '../api/rate-limit.js';
import { isEaselError } from '../errors.js';
import { createDisplay, type Display } from '../canvas/channel.js';
import type { Registry } from '../canvas/registry.js';
import { parseSlug } from '../canvas/slug.js';
import type { Canvas } from '../canvas/canvas.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { chooseRendition, parseViewport, type DisplayWants } from '../stream/rendition.js';
import { parseTile } from '../stream/tile.js';
import { createDisplayAccess } from './display-access.js';
import { chooseWireFormat } from './wire-format.js';
import { MAX_CLIENT_MESSAGE_BYTES, readClientMessage } from './display-messages.js';
import { replyProblem } from './http-reply.js';

export { MAX_CLIENT_MESSAGE_BYTES } from './display-messages.js';
/**
 * uWS drops a connection without a close frame (1006) past its own limit, so that limit sits
 * higher and our check below answers anything between the two with a proper 1009.
 */
const UWS_MAX_PAYLOAD_BYTES = 1024 * 1024;

export interface DisplayLimits {
  maxDisplaysPerCanvas: number;
  maxConnections: number;
  connectionsPerSecond: number;
  connectionBurst: number;
  rateLimitLoopback: boolean;
}

export interface DisplayRouteOptions {
  registry: Registry;
  /** When set, an upgrade must carry ?token=<this> (or the operator token: the console's previews). */
  displayToken?: string | undefined;
  operatorToken?: () => string | undefined;
  /** Wrong tokens per address, shared with the API; a guessing address waits before its next try. */
  authFailures?: AuthFailures;
  /** With a display token, the Host and Origin are checked as for commands. */
  hosts?: HostPolicy;
  limits: DisplayLimits;
  logger: Logger;
  clock: Clock;
  isClosing: () => boolean;
  maxBackpressureBytes: number;
  idleTimeoutSeconds: number;
  /** Told of each display that connects or is lost (the event bus: webhooks, OSC out, consoles). */
  onDisplay?: (event: DisplayEvent) => void;
}

export interface DisplayEvent {
  type: 'display';
  slug: string;
  event: 'connected' | 'lost';
  display: number;
  address: string;
  /** Displays on the canvas after this one came or went. */
  displays: number;
  /** The WebSocket close code, when lost. */
  code?: number;
}

interface SocketData {
  canvas: Canvas;
  wants: DisplayWants;
  format: WireFormat;
  remoteAddress: string;
  userAgent: string;
  display?: Display;
}

export interface DisplayRoute {
  readonly sockets: ReadonlySet<WebSocket<SocketData>>;
  /** Messages from displays that were not part of the protocol, since start. */
  readonly ignoredMessages: number;
  /** Frames displays reported shown after their presentAt, by canvas, since start. */
  readonly lateFrames: ReadonlyMap<string, number>;
  /** Upgrades refused, by reason, since start. */
  readonly refused: Readonly<Record<RefusalReason, number>>;
  /** Closes every display with 1001 (going away). */
  closeAll(): void;
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

/** `GET /ws/:slug`, the display wire protocol v1 of docs/protocol.md: admission before the upgrade, then the socket's life. */
export function registerDisplayRoute(app: TemplatedApp, options: DisplayRouteOptions): DisplayRoute {
  const { registry, clock } = options;
  const log = options.logger;
  const sockets = new Set<WebSocket<SocketData>>();
  let ignoredMessages = 0;
  const lateFrames = new Map<string, number>();
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
    perMinute: options.limits.connectionsPerSecond * 60,
    burst: options.limits.connectionBurst,
    clock,
  });
  const { limits } = options;
  const full = (res: HttpResponse, reason: RefusalReason, detail: string, hint: string) => {
    refused[reason]++;
    replyProblem(res, 503, { title: 'Limit reached', detail, hint, code: 'EASEL_ERR_LIMIT_REACHED' });
  };

  const ignore = (display: Display | undefined) => {
    ignoredMessages++;
    if (display) display.ignoredMessages++;
  };

  const access = options.displayToken
    ? createDisplayAccess({
        displayToken: options.displayToken,
        operatorToken: options.operatorToken,
        authFailures: options.authFailures,
        hosts: options.hosts,
      })
    : undefined;

  app.ws<SocketData>('/ws/:slug', {
    compression: uWS.DISABLED, // frames are already compressed images
    maxPayloadLength: UWS_MAX_PAYLOAD_BYTES,
    maxBackpressure: options.maxBackpressureBytes,
    closeOnBackpressureLimit: false,
    idleTimeout: options.idleTimeoutSeconds,
    sendPingsAutomatically: true,

    upgrade(res, req, context) {
      if (options.isClosing()) {
        refused.closing++;
        replyProblem(res, 503, {
          title: 'Shutting down',
          detail: 'The server is shutting down and takes no new displays',
          hint: 'The display reconnects by itself once the server is back',
          code: 'EASEL_ERR_SERVER_CLOSING',
        });
        return;
      }
      // Parsed in JS like the API's queries: a malformed escape is then only a bad value.
      const query = new URLSearchParams(req.getQuery() ?? '');
      const remoteAddress = Buffer.from(res.getRemoteAddressAsText()).toString();
      const refusal = access?.(req, query, remoteAddress);
      if (refusal) {
        refused.token++;
        replyProblem(res, refusal.status, refusal.problem, refusal.headers);
        return;
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
        return;
      }
      if (sockets.size >= limits.maxConnections) {
        full(
          res,
          'connections',
          `The server has ${sockets.size} displays, its limit`,
          'Raise limits.maxConnections if the box can take more',
        );
        return;
      }
      const check = parseSlug(req.getParameter(0) ?? '');
      if (!check.ok) {
        refused.badRequest++;
        replyProblem(res, 400, {
          title: 'Invalid canvas slug',
          detail: check.reason,
          hint: 'Use lowercase letters, digits and dashes, e.g. /ws/left-canva',
          code: 'EASEL_ERR_SLUG_INVALID',
        });
        return;
      }
      const format = chooseWireFormat(query.get('format'), req.getHeader('sec-websocket-protocol'));
      if (!format.ok) {
        refused.badRequest++;
        replyProblem(res, 400, format.problem);
        return;
      }
      let canvas: Canvas | undefined;
      try {
        canvas = registry.getOrCreate(check.slug);
      } catch (err) {
        if (!isEaselError(err, 'EASEL_ERR_LIMIT_REACHED')) throw err;
        full(res, 'canvases', err.message, err.hint);
        return;
      }
      if (!canvas) {
        refused.unknownCanvas++;
        const near = registry.notFound(check.slug).details.didYouMean as string | undefined;
        replyProblem(res, 404, {
          title: 'No such canvas',
          detail: `Canvas "${check.slug}" is not declared${near ? `: did you mean "${near}"?` : ''}`,
          hint: near ? `Open /ws/${near}` : 'Declare it under canvases in the config, or set createCanvasesOnConnect to true',
          code: 'EASEL_ERR_NOT_FOUND',
        });
        return;
      }
      if (canvas.channel.displays.size >= limits.maxDisplaysPerCanvas) {
        full(
          res,
          'displaysPerCanvas',
          `Canvas "${canvas.slug}" has ${canvas.channel.displays.size} displays, its limit`,
          'Raise limits.maxDisplaysPerCanvas if the box can take more',
        );
        return;
      }
      const tileParam = query.get('tile');
      const tile = tileParam === null ? undefined : parseTile(tileParam, canvas.config.tiles, canvas.slug);
      if (tile && !tile.ok) {
        refused.badRequest++;
        replyProblem(res, 400, { title: 'Invalid tile', detail: tile.reason, hint: tile.hint, code: 'EASEL_ERR_REQUEST_INVALID' });
        return;
      }
      const wants: DisplayWants = {
        mode: format.format.mode,
        accept: (query.get('accept') ?? '')
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter(Boolean),
        viewport: parseViewport(query.get('w') ?? undefined, query.get('h') ?? undefined, query.get('dpr') ?? undefined),
        tile: tile?.tile,
      };
      const data: SocketData = {
        canvas,
        wants,
        format: format.format,
        remoteAddress,
        userAgent: req.getHeader('user-agent'),
      };
      res.upgrade(data, req.getHeader('sec-websocket-key'), format.subprotocol, req.getHeader('sec-websocket-extensions'), context);
    },

    open(ws) {
      const data = ws.getUserData();
      // A created canvas with no display yet may have been reaped between upgrade and open.
      if (registry.get(data.canvas.slug) !== data.canvas) {
        let again: Canvas | undefined;
        try {
          again = registry.getOrCreate(data.canvas.slug);
        } catch {
          again = undefined;
        }
        if (!again) {
          ws.end(1013, 'Canvas removed: try again');
          return;
        }
        data.canvas = again;
      }
      const { canvas, wants } = data;
      const display = createDisplay({
        socket: ws,
        mode: wants.mode,
        wire: data.format.mode === 'json' ? 'json' : `v${data.format.protocol}`,
        spec: chooseRendition(canvas.config, wants),
        remoteAddress: data.remoteAddress,
        userAgent: data.userAgent,
        now: clock.now(),
      });
      data.display = display;
      sockets.add(ws);
      if (data.format.mode === 'binary') ws.send(JSON.stringify(helloFor(canvas, data.format.protocol, clock.now(), wants.tile)), false);
      canvas.attach(display);
      log.debug(
        { slug: canvas.slug, display: display.id, address: display.remoteAddress, mode: display.mode, rendition: display.key },
        'Display connected',
      );
      const { slug } = canvas;
      options.onDisplay?.({
        type: 'display',
        slug,
        event: 'connected',
        display: display.id,
        address: display.remoteAddress,
        displays: canvas.channel.displays.size,
      });
    },

    message(ws, message, isBinary) {
      const { display, canvas, wants } = ws.getUserData();
      const said = readClientMessage(message, isBinary);
      switch (said.kind) {
        case 'too-big':
          ignore(display);
          ws.end(1009, `Message too big: the limit is ${MAX_CLIENT_MESSAGE_BYTES} bytes`);
          return;
        case 'keep-alive':
          return;
        case 'report': {
          if (!display) return ignore(display);
          const { offsetMs, rttMs, errorMs, shown, late } = said.report;
          const newlyLate = late - (display.sync?.late ?? 0);
          if (newlyLate > 0) lateFrames.set(canvas.slug, (lateFrames.get(canvas.slug) ?? 0) + newlyLate);
          display.clockOffsetMs = offsetMs;
          display.sync = { rttMs, errorMs, shown, late, at: clock.now() };
          return;
        }
        case 'ping':
          if (display && said.offsetMs !== undefined) display.clockOffsetMs = said.offsetMs;
          // JSON mode carries frames and nothing else, so seed clients never see a pong.
          if (wants.mode === 'binary') ws.send(JSON.stringify({ type: 'pong', t0: said.t0, serverTime: clock.now() }), false);
          return;
        case 'viewport':
          if (!display) return ignore(display);
          wants.viewport = said.viewport;
          canvas.updateDisplay(display, wants);
          return;
        case 'ignored':
          return ignore(display);
      }
    },

    drain(ws) {
      const { display, canvas } = ws.getUserData();
      if (display) canvas.drained(display);
    },

    close(ws, code) {
      const { display, canvas } = ws.getUserData();
      sockets.delete(ws);
      if (!display) return;
      canvas.detach(display);
      log.debug({ slug: canvas.slug, display: display.id, code, sent: display.sent, skipped: display.skipped }, 'Display disconnected');
      const { slug } = canvas;
      options.onDisplay?.({
        type: 'display',
        slug,
        event: 'lost',
        display: display.id,
        address: display.remoteAddress,
        displays: canvas.channel.displays.size,
        code,
      });
    },
  });

  return {
    sockets,
    get ignoredMessages() {
      return ignoredMessages;
    },
    lateFrames,
    refused,
    closeAll() {
      for (const ws of [...sockets]) ws.end(1001, 'Server shutting down');
    },
  };
}

/** The first message of a binary connection: v2 adds whether and how far ahead frames are timed. */
function helloFor(canvas: Canvas, protocol: 1 | 2, serverTime: number, tile: TilePosition | undefined): HelloMessage {
  const hello: HelloMessage = { type: 'hello', protocol, canvas: canvas.slug, fps: canvas.snapshot().fps, serverTime };
  // A tile learns its wall, so a preview of the whole grid can lay the others out.
  if (tile && canvas.config.tiles) {
    hello.tile = tile;
    hello.grid = canvas.config.tiles;
  }
  if (protocol >= 2) {
    hello.sync = canvas.config.sync;
    hello.leadMs = canvas.config.sync ? canvas.config.leadMs : 0;
  }
  return hello;
}
