import uWS, { type TemplatedApp, type WebSocket } from 'uWebSockets.js';
import type { HelloMessage, TilePosition, WireFormat } from '../../protocol/wire.js';
import type { AuthFailures } from '../api/auth-failures.js';
import type { HostPolicy } from '../api/host-policy.js';
import { createDisplay, type Display } from '../canvas/channel.js';
import type { Registry } from '../canvas/registry.js';
import type { Canvas } from '../canvas/canvas.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { chooseRendition, parseViewport, type DisplayWants } from '../stream/rendition.js';
import { chooseWireFormat } from './wire-format.js';
import { MAX_CLIENT_MESSAGE_BYTES, readClientMessage } from './display-messages.js';

export { MAX_CLIENT_MESSAGE_BYTES } from './display-messages.js';
/**
 * uWS drops a connection without a close frame (1006) past its own limit, so that limit sits
 * higher and our check below answers anything between the two with a proper 1009.
 */
const UWS_MAX_PAYLOAD_BYTES = 1024 * 1024;

import { createDisplayAdmission, type DisplayAdmission, type DisplayLimits, type RefusalReason } from './display-admission.js';

export type { DisplayLimits, RefusalReason } from './display-admission.js';

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
  /** Displays of other kinds connected now, counted with this route's against limits.maxConnections. */
  otherConnections?: () => number;
  /** Cluster mode: displays join declared canvases only. */
  clustered?: boolean;
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
  /** The checks a new display passes, for the other display routes (MJPEG) to share. */
  readonly admission: DisplayAdmission;
  /** Closes every display with 1001 (going away). */
  closeAll(): void;
}

/** `GET /ws/:slug`, the display wire protocol v1 of docs/protocol.md: admission before the upgrade, then the socket's life. */
export function registerDisplayRoute(app: TemplatedApp, options: DisplayRouteOptions): DisplayRoute {
  const { registry, clock } = options;
  const log = options.logger;
  const sockets = new Set<WebSocket<SocketData>>();
  let ignoredMessages = 0;
  const lateFrames = new Map<string, number>();
  const admission = createDisplayAdmission({ ...options, connected: () => sockets.size + (options.otherConnections?.() ?? 0) });
  const { refused } = admission;

  const ignore = (display: Display | undefined) => {
    ignoredMessages++;
    if (display) display.ignoredMessages++;
  };

  app.ws<SocketData>('/ws/:slug', {
    compression: uWS.DISABLED, // frames are already compressed images
    maxPayloadLength: UWS_MAX_PAYLOAD_BYTES,
    maxBackpressure: options.maxBackpressureBytes,
    closeOnBackpressureLimit: false,
    idleTimeout: options.idleTimeoutSeconds,
    sendPingsAutomatically: true,

    upgrade(res, req, context) {
      const admitted = admission.admit(res, req, {
        prefix: '/ws/',
        slug: req.getParameter(0) ?? '',
        validate: (query) => {
          const choice = chooseWireFormat(query.get('format'), req.getHeader('sec-websocket-protocol'));
          return choice.ok ? { ok: true, value: choice } : choice;
        },
      });
      if (!admitted) return;
      const { canvas, query, remoteAddress, tile, value: format } = admitted;
      const wants: DisplayWants = {
        mode: format.format.mode,
        accept: (query.get('accept') ?? '')
          .split(',')
          .map((s) => s.trim().toLowerCase())
          .filter(Boolean),
        viewport: parseViewport(query.get('w') ?? undefined, query.get('h') ?? undefined, query.get('dpr') ?? undefined),
        tile,
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
    admission,
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
