import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { backoffDelay, DEFAULT_BACKOFF } from '../backoff.js';
import { parseServerEvent, SERVER_EVENT_TYPES, type ServerEvent } from './api-types.js';

/** Where the console's `/api/events` stream is. The header renders it with an exhaustive switch. */
export const StreamState = {
  /** Not wanted: the console is locked or not in a document. */
  Idle: 'idle',
  Connecting: 'connecting',
  /** Events flow (the hello has arrived). */
  Open: 'open',
  /** Lost; the browser or the backoff timer tries again. */
  Reconnecting: 'reconnecting',
} as const;
export type StreamState = (typeof StreamState)[keyof typeof StreamState];

export interface EventStreamOptions {
  /** Whether the stream should be open now (the console is unlocked). */
  enabled(): boolean;
  /** Base URL of the Easel server; the page's own origin when left out. */
  server?(): string | undefined;
  /**
   * Sent as ?token= (EventSource cannot send headers): the operator token shows who sent each
   * command, and a server with a display token streams only to a reader with either token.
   */
  token?(): string | undefined;
  onEvent(event: ServerEvent): void;
  /** Called when the state changes, e.g. to note a lost connection in the feed. */
  onStateChange?(state: StreamState, previous: StreamState): void;
}

/**
 * `GET /api/events` as a Lit ReactiveController: opens an EventSource when the host is
 * connected and `enabled()`, closes it when the host goes. The browser reconnects an
 * EventSource by itself after a dropped stream (the server asks for 2 s); when it gives up (an
 * error status, e.g. 503 while the server shuts down) this waits with backoff and jitter and
 * opens a new one, forever. Call `sync()` after `enabled()` may have changed.
 *
 * @example
 * stream = new EventStream(this, { enabled: () => this.unlocked, onEvent: (e) => this.apply(e) });
 */
export class EventStream implements ReactiveController {
  state: StreamState = StreamState.Idle;

  private readonly host: ReactiveControllerHost;
  private readonly options: EventStreamOptions;
  private source: EventSource | undefined;
  private connected = false;
  private attempt = 0;
  private retryTimer: number | undefined;

  constructor(host: ReactiveControllerHost, options: EventStreamOptions) {
    this.host = host;
    this.options = options;
    host.addController(this);
  }

  hostConnected(): void {
    this.connected = true;
    this.sync();
  }

  hostDisconnected(): void {
    this.connected = false;
    this.sync();
  }

  /** Opens or closes the stream to match `enabled()`. */
  sync(): void {
    const wanted = this.connected && this.options.enabled();
    if (wanted && !this.source && this.retryTimer === undefined) this.open();
    else if (!wanted) this.close();
  }

  private open(): void {
    this.retryTimer = undefined;
    const url = new URL('/api/events', this.options.server?.() || window.location.href);
    const token = this.options.token?.();
    if (token) url.searchParams.set('token', token);
    const source = new EventSource(url.href);
    this.source = source;
    this.setState(this.attempt === 0 ? StreamState.Connecting : StreamState.Reconnecting);
    for (const type of SERVER_EVENT_TYPES) {
      source.addEventListener(type, (message: MessageEvent<string>) => {
        if (this.source !== source) return;
        const event = parseServerEvent(type, message.data);
        if (!event) return;
        if (event.type === 'hello') {
          this.attempt = 0;
          this.setState(StreamState.Open);
        }
        this.options.onEvent(event);
      });
    }
    source.onerror = () => {
      if (this.source !== source) return;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up on this one (an error status or a wrong content type).
        this.source = undefined;
        source.close();
        this.retryTimer = window.setTimeout(() => this.open(), backoffDelay(this.attempt++, Math.random, DEFAULT_BACKOFF));
      }
      this.setState(StreamState.Reconnecting);
    };
  }

  private close(): void {
    window.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.source?.close();
    this.source = undefined;
    this.attempt = 0;
    this.setState(StreamState.Idle);
  }

  private setState(state: StreamState): void {
    if (state === this.state) return;
    const previous = this.state;
    this.state = state;
    this.options.onStateChange?.(state, previous);
    this.host.requestUpdate();
  }
}
