import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.js';
import { type ClockEstimator, createClockEstimator } from '../../protocol/clock-estimator.js';
import { ConnectionState } from './connection-state.js';
import {
  decodeFrameMessage,
  EASEL_SUBPROTOCOL,
  parseServerText,
  type FrameHeader,
  type HelloMessage,
  type PongMessage,
  type ReportMessage,
} from '../../protocol/wire.js';
import { SLUG_PATTERN } from './page-options.js';

/** Clock sync from ping/pong, for people: `offsetMs` is the display's wall clock minus the server's clock, as the server expects it. */
export interface ClockSync {
  offsetMs: number | null;
  rttMs: number | null;
  errorMs: number | null;
}

/** Presentation counts the display reports to the server with its clock. */
export interface PresentCounts {
  late: number;
  shown: number;
}

export interface Viewport {
  w: number;
  h: number;
  dpr: number;
}

export interface FrameSocketOptions {
  slug(): string | undefined;
  /** Base URL of the Easel server (`http://easel.local:8000`); the page's own origin when left out. */
  server?(): string | undefined;
  /** Display token (or the operator token, for the console's previews); the page's ?token= when left out. */
  token?(): string | undefined;
  /** Preferred image formats, `avif,webp,jpeg` order = preference; the canvas's default when left out. */
  accept?(): string | undefined;
  /** The tile of a wall this display is, `column,row` (`2,1`); the whole canvas when left out. */
  tile?(): string | undefined;
  onHello?(hello: HelloMessage): void;
  /**
   * Called for each frame. `image` is a view into the received message: copy it or wrap it in a
   * Blob. `first`: the first frame of this connection, the canvas's latest, sent on joining.
   */
  onFrame(header: FrameHeader, image: Uint8Array, first: boolean): void;
  /** Frames shown and shown late so far, sent with each clock report. */
  counts?(): PresentCounts;
  random?: () => number;
  backoff?: BackoffOptions;
}

/**
 * A ping every so often keeps the clock in sync and proves the connection is alive. Spread out
 * rather than bunched, three pings per 30 s meet different moments of a Wi-Fi link's congestion,
 * and over the estimator's window one of them usually finds a quick round trip.
 */
export const PING_INTERVAL_MS = 10_000;
/**
 * On each connection a burst of pings gives the clock estimate a few quick round trips before the
 * first frames are due (the lead is 300 ms by default): spaced so they do not queue behind each other.
 */
export const BURST_PINGS = 7;
export const BURST_SPACING_MS = 150;
/** The server hears the display's clock and late count after each burst and this often. */
export const REPORT_INTERVAL_MS = 30_000;
/** Nothing heard (no pong, no frame) for this long: the connection is dead even if TCP has not noticed. */
export const SILENCE_LIMIT_MS = 25_000;
/** A connection attempt that has not opened after this long is given up and retried. */
export const CONNECT_TIMEOUT_MS = 10_000;
/** A connection that lasted this long (or brought a frame) was good: the backoff starts over. */
export const STABLE_AFTER_MS = 5_000;
/** Resizes are reported once the window has settled. */
export const VIEWPORT_DEBOUNCE_MS = 250;

/**
 * The display's WebSocket to `/ws/:slug` as a Lit ReactiveController: it connects when the
 * host is connected and closes when it is disconnected. It reconnects by itself forever with
 * capped exponential backoff and jitter, answers nothing but sends pings for clock sync, and
 * tells the server the host's size (query on connect, `viewport` message on resize) so the
 * server sends a rendition that fits. Each frame and state change calls `host.requestUpdate()`.
 *
 * @example
 * class MyCanvas extends LitElement {
 *   socket = new FrameSocket(this, { slug: () => this.slug, onFrame: (header, image) => show(header, image) });
 * }
 */
export class FrameSocket implements ReactiveController {
  state: ConnectionState = ConnectionState.Idle;
  hello: HelloMessage | undefined;
  /** Server time on the display's monotonic clock (`performance.now()`), from the pings. */
  readonly clock: ClockEstimator = createClockEstimator({ now: monotonic });
  /** Connections opened since the host was created. */
  connects = 0;
  /** Connections lost (or attempts that failed) since the host was created. */
  disconnects = 0;
  /** Binary messages that were not a valid frame. */
  badMessages = 0;
  /** Bytes of binary messages received since the host was created. */
  bytesReceived = 0;

  private readonly host: ReactiveControllerHost & HTMLElement;
  private readonly options: FrameSocketOptions;
  private ws: WebSocket | undefined;
  private active = false;
  private attempt = 0;
  private openedAt = 0;
  private lastHeard = 0;
  private gotFrame = false;
  private sentViewport: Viewport | undefined;
  private retryTimer: number | undefined;
  private connectTimer: number | undefined;
  private pingTimer: number | undefined;
  private burstTimer: number | undefined;
  private burstLeft = 0;
  private lastBurstAt = Number.NEGATIVE_INFINITY;
  private lastReportAt = 0;
  private countsAtOpen: PresentCounts = { late: 0, shown: 0 };
  private viewportTimer: number | undefined;
  private resizeObserver: ResizeObserver | undefined;

  constructor(host: ReactiveControllerHost & HTMLElement, options: FrameSocketOptions) {
    this.host = host;
    this.options = options;
    host.addController(this);
  }

  hostConnected(): void {
    this.active = true;
    window.addEventListener('online', this.retryNow);
    document.addEventListener('visibilitychange', this.retryNow);
    this.resizeObserver = new ResizeObserver(this.onResize);
    this.resizeObserver.observe(this.host);
    this.connect();
  }

  hostDisconnected(): void {
    this.active = false;
    window.removeEventListener('online', this.retryNow);
    document.removeEventListener('visibilitychange', this.retryNow);
    this.resizeObserver?.disconnect();
    this.resizeObserver = undefined;
    window.clearTimeout(this.viewportTimer);
    window.clearTimeout(this.retryTimer);
    this.drop(1000, 'Display closed');
    this.setState(ConnectionState.Idle);
  }

  /** Closes the current connection and opens a new one at once (the slug or server changed). */
  restart(): void {
    if (!this.active) return;
    this.attempt = 0;
    this.hello = undefined;
    this.clock.reset(); // maybe another server, with another clock
    this.drop(1000, 'Display switched canvas');
    this.connect();
  }

  private connect(): void {
    window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const slug = this.options.slug();
    if (!this.active || !slug || !SLUG_PATTERN.test(slug)) {
      this.setState(ConnectionState.Idle);
      return;
    }
    const viewport = this.measure();
    let ws: WebSocket;
    try {
      // The subprotocol asks for binary frames with presentation times; without it the server sends the seed's JSON.
      ws = new WebSocket(this.url(slug, viewport), [EASEL_SUBPROTOCOL]);
    } catch {
      // A malformed server URL: nothing to show for it, but keep trying in case it is fixed.
      this.disconnects++;
      this.scheduleRetry();
      return;
    }
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    this.setState(ConnectionState.Connecting);
    this.connectTimer = window.setTimeout(() => this.lost(ws), CONNECT_TIMEOUT_MS);
    ws.onopen = () => {
      if (this.ws !== ws) return;
      window.clearTimeout(this.connectTimer);
      this.connects++;
      this.openedAt = this.lastHeard = monotonic();
      this.gotFrame = false;
      this.countsAtOpen = this.counts();
      this.sentViewport = viewport;
      this.setState(ConnectionState.Open);
      this.burst();
      this.pingTimer = window.setInterval(this.tick, PING_INTERVAL_MS);
      // The host may have been resized between measuring and opening.
      this.reportViewport();
    };
    ws.onmessage = (event: MessageEvent) => this.receive(ws, event.data);
    ws.onclose = () => this.lost(ws);
    // An error is always followed by close, where it is handled; the browser has logged it already.
    ws.onerror = null;
  }

  private url(slug: string, viewport: Viewport | undefined): string {
    const base = new URL(this.options.server?.() || window.location.href);
    const url = new URL(`/ws/${slug}`, base);
    url.protocol = base.protocol === 'https:' || base.protocol === 'wss:' ? 'wss:' : 'ws:';
    if (viewport) {
      url.searchParams.set('w', String(viewport.w));
      url.searchParams.set('h', String(viewport.h));
      url.searchParams.set('dpr', String(viewport.dpr));
    }
    const accept = this.options.accept?.();
    if (accept) url.searchParams.set('accept', accept);
    const tile = this.options.tile?.();
    if (tile) url.searchParams.set('tile', tile);
    // A server that requires a display token gets the one given, else the one in the page's own address (?token=).
    const token = this.options.token?.() || new URLSearchParams(window.location.search).get('token');
    if (token) url.searchParams.set('token', token);
    return url.href;
  }

  private receive(ws: WebSocket, data: unknown): void {
    if (this.ws !== ws) return;
    this.lastHeard = monotonic();
    if (typeof data === 'string') {
      const msg = parseServerText(data);
      if (msg?.type === 'hello') {
        this.hello = msg;
        this.options.onHello?.(msg);
        this.host.requestUpdate();
      } else if (msg?.type === 'pong') {
        this.onPong(msg);
      }
      return;
    }
    if (!(data instanceof ArrayBuffer)) return;
    this.bytesReceived += data.byteLength;
    let frame: ReturnType<typeof decodeFrameMessage>;
    try {
      frame = decodeFrameMessage(new Uint8Array(data));
    } catch {
      this.badMessages++;
      return;
    }
    const first = !this.gotFrame;
    this.gotFrame = true;
    this.options.onFrame(frame.header, frame.image, first);
    this.host.requestUpdate();
  }

  /** Offset, round trip and error of the clock estimate, rounded for people; nulls before the first pong. */
  get clockSync(): ClockSync {
    const e = this.clock.estimate();
    if (!e) return { offsetMs: null, rttMs: null, errorMs: null };
    // The wall clock is read only here, for the technician: presenting never uses it.
    return { offsetMs: tenths(Date.now() - (monotonic() + e.offsetMs)), rttMs: tenths(e.rttMs), errorMs: tenths(e.errorMs) };
  }

  private onPong(pong: PongMessage): void {
    // The pong echoes the ping's send time, taken on the same monotonic clock.
    const verdict = this.clock.add({ sentAt: pong.t0, receivedAt: monotonic(), serverTime: pong.serverTime });
    // A sample that disagrees may be a clock that jumped (a suspended machine waking up): settle it quickly.
    if (verdict === 'outlier') this.burst();
  }

  private ping(): void {
    const offset = this.clockSync.offsetMs;
    // `offset` is for servers from before the report message; newer ones read the report.
    this.send({ type: 'ping', t0: monotonic(), ...(offset !== null ? { offset: Math.round(offset) } : {}) });
  }

  /** A few pings in quick succession, then a report; at most one burst per ping interval, whatever the pongs say. */
  private burst(): void {
    const now = monotonic();
    if (this.burstLeft > 0 || now - this.lastBurstAt < PING_INTERVAL_MS) return;
    this.lastBurstAt = now;
    this.burstLeft = BURST_PINGS;
    const next = () => {
      this.burstTimer = undefined;
      if (this.burstLeft <= 0) return;
      this.burstLeft--;
      this.ping();
      // After the last ping, one more spacing (and a round trip's grace) before reporting what the burst found.
      this.burstTimer = window.setTimeout(
        this.burstLeft > 0 ? next : this.report,
        this.burstLeft > 0 ? BURST_SPACING_MS : 2 * BURST_SPACING_MS,
      );
    };
    next();
  }

  private readonly report = (): void => {
    this.burstTimer = undefined;
    const { offsetMs, rttMs, errorMs } = this.clockSync;
    if (offsetMs === null) return;
    this.lastReportAt = monotonic();
    if (rttMs === null || errorMs === null) return;
    // Counted since this connection opened: the server keeps one tally per connection.
    const counts = this.counts();
    const late = counts.late - this.countsAtOpen.late;
    const shown = counts.shown - this.countsAtOpen.shown;
    this.send({ type: 'report', offsetMs, rttMs, errorMs, late, shown } satisfies ReportMessage);
  };

  private counts(): PresentCounts {
    return this.options.counts?.() ?? { late: 0, shown: 0 };
  }

  private readonly tick = (): void => {
    const ws = this.ws;
    if (!ws) return;
    if (monotonic() - this.lastHeard > SILENCE_LIMIT_MS) {
      this.lost(ws); // a half-open connection (cable pulled, Wi-Fi gone): TCP may take minutes to say so
      return;
    }
    this.ping();
    if (monotonic() - this.lastReportAt >= REPORT_INTERVAL_MS - PING_INTERVAL_MS / 2) this.report();
  };

  private send(message: object): void {
    if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(message));
  }

  /** The connection ended (closed, failed, timed out or went silent): forget it and try again later. */
  private lost(ws: WebSocket): void {
    if (this.ws !== ws) return;
    const stable = this.gotFrame || (this.openedAt > 0 && monotonic() - this.openedAt >= STABLE_AFTER_MS);
    this.drop(4000, 'Display reconnecting');
    this.disconnects++;
    if (stable) this.attempt = 0;
    if (this.active) this.scheduleRetry();
  }

  private drop(code: number, reason: string): void {
    const ws = this.ws;
    this.ws = undefined;
    window.clearTimeout(this.connectTimer);
    window.clearInterval(this.pingTimer);
    window.clearTimeout(this.burstTimer);
    this.burstLeft = 0;
    // A new connection gets its burst even if the last one was moments ago.
    this.lastBurstAt = Number.NEGATIVE_INFINITY;
    this.openedAt = 0;
    if (!ws) return;
    ws.onopen = ws.onmessage = ws.onclose = ws.onerror = null;
    // Closing a socket still connecting makes Chromium log a warning; let it fail or open and then close it.
    if (ws.readyState === WebSocket.CONNECTING) ws.onopen = () => ws.close(code, reason);
    else if (ws.readyState === WebSocket.OPEN) ws.close(code, reason);
  }

  private scheduleRetry(): void {
    const delay = backoffDelay(this.attempt++, this.options.random ?? Math.random, this.options.backoff ?? DEFAULT_BACKOFF);
    this.setState(ConnectionState.Waiting);
    this.retryTimer = window.setTimeout(() => this.connect(), delay);
  }

  /** The network came back or the screen woke up: no point waiting out the backoff. */
  private readonly retryNow = (): void => {
    if (this.state === ConnectionState.Waiting && document.visibilityState === 'visible') this.connect();
  };

  private measure(): Viewport | undefined {
    const rect = this.host.getBoundingClientRect();
    const w = Math.round(rect.width);
    const h = Math.round(rect.height);
    if (w < 1 || h < 1) return undefined;
    return { w, h, dpr: Math.round((window.devicePixelRatio || 1) * 100) / 100 };
  }

  private readonly onResize = (): void => {
    window.clearTimeout(this.viewportTimer);
    this.viewportTimer = window.setTimeout(() => this.reportViewport(), VIEWPORT_DEBOUNCE_MS);
  };

  private reportViewport(): void {
    if (this.state !== ConnectionState.Open) return;
    const v = this.measure();
    const last = this.sentViewport;
    if (!v || (last && last.w === v.w && last.h === v.h && last.dpr === v.dpr)) return;
    this.sentViewport = v;
    this.send({ type: 'viewport', ...v });
  }

  private setState(state: ConnectionState): void {
    if (this.state === state) return;
    this.state = state;
    this.host.requestUpdate();
  }
}

/** The display's monotonic clock: a wall clock that is set or stepped cannot move it. */
function monotonic(): number {
  return typeof performance !== 'undefined' ? performance.now() : Date.now();
}

function tenths(ms: number): number {
  return Math.round(ms * 10) / 10;
}
