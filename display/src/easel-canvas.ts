import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import type { EaselCanvasStats } from './canvas-stats.js';
import { ConnectionState } from './connection-state.js';
import type { FrameHeader, TransitionKind } from '../../protocol/wire.js';
import { FramePresenter, type Transition } from './frame-presenter.js';
import { FrameSocket } from './frame-socket.js';
import { formatFrameTime } from './frame-time.js';
import { readFlag, type Fit } from './page-options.js';
import { DEFAULT_LEAD_MS, DEFAULT_MAX_WAITING, waitingCap } from './present-scheduler.js';

/** Crossfade length when neither the page nor the server says. */
export const DEFAULT_CROSSFADE_MS = 400;

/** `time="0"` / `label="1"`: attribute flags that can be turned off as well as on. */
const flag = (fallback: boolean) => ({
  fromAttribute: (value: string | null) => readFlag(value, fallback),
  toAttribute: (value: boolean) => (value ? '1' : '0'),
});

/**
 * One canvas's live stream, full size of its box: `<easel-canvas slug="left-canva">`. Usable
 * on its own in any page (give it a size; `server` points it at another host). Before the
 * first frame it is dark (or shows `placeholder`); when the connection drops it keeps the last
 * frame and reconnects by itself.
 *
 * @example
 * <easel-canvas slug="left-canva" transition="crossfade" transition-ms="400" fit="cover" label="1"></easel-canvas>
 */
@customElement('easel-canvas')
export class EaselCanvas extends LitElement {
  static override styles = css`
    :host {
      display: block;
      position: relative;
      width: 100%;
      height: 100%;
      overflow: hidden;
      background: #000;
      container-type: size;
      cursor: none;
      user-select: none;
      -webkit-user-select: none;
    }
    .layer,
    .placeholder {
      position: absolute;
      inset: 0;
      width: 100%;
      height: 100%;
      display: block;
      object-fit: contain;
    }
    .layer {
      opacity: 0;
    }
    .cover {
      object-fit: cover;
    }
    .time,
    .label {
      position: absolute;
      z-index: 3;
      pointer-events: none;
      font: 500 clamp(10px, 1.7cqmin, 30px) / 1.2 ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace;
      font-variant-numeric: tabular-nums;
      color: rgb(255 255 255 / 0.7);
      text-shadow: 0 0 2px #000, 0 0 6px #000;
      white-space: nowrap;
    }
    .time {
      right: max(6px, 1.2cqmin);
      bottom: max(4px, 1cqmin);
    }
    .label {
      left: max(6px, 1.2cqmin);
      top: max(4px, 1cqmin);
    }
    .stale {
      color: rgb(255 255 255 / 0.35);
    }
  `;

  @property({ reflect: true }) slug = '';
  /** Base URL of the Easel server; the page's own origin when left out. */
  @property() server?: string;
  /** Display token to connect with; the ?token= of the page's own address when left out. */
  @property({ attribute: false }) token?: string;
  @property({ reflect: true }) fit: Fit = 'contain';
  /** Left out: the canvas's setting from the server's hello, else a cut. */
  @property() transition?: TransitionKind;
  @property({ attribute: 'transition-ms', type: Number }) transitionMs?: number;
  /** An image shown before the first frame instead of a dark screen. */
  @property() placeholder?: string;
  @property({ attribute: 'time', converter: flag(true) }) showTime = true;
  @property({ attribute: 'label', converter: flag(false) }) showLabel = false;
  /** Preferred image formats, e.g. `avif,webp`; the canvas's default when left out. */
  @property() accept?: string;
  /** The tile of a wall this screen is, `column,row` from 1 (`2,1`); the whole canvas when left out. */
  @property({ reflect: true }) tile?: string;

  @state() private shown: FrameHeader | undefined;
  /** When the frame on screen went on it, on the server's clock; undefined without a clock estimate. */
  @state() private shownAt: number | undefined;
  /** The `seq` of the frame the server sent on (re)joining, which was published before this screen came. */
  private joinSeq: number | undefined;
  @state() private placeholderFailed = false;

  private readonly presenter: FramePresenter = new FramePresenter({
    onShown: (header, at) => {
      this.shown = header;
      this.shownAt = this.socket.clock.toServer(at);
    },
    transition: () => this.effectiveTransition(),
    dueAt: (header) => this.dueAt(header),
    maxWaiting: () => this.maxWaiting(),
  });

  private readonly socket: FrameSocket = new FrameSocket(this, {
    slug: () => this.slug,
    server: () => this.server,
    token: () => this.token,
    accept: () => this.accept,
    tile: () => this.tile,
    onHello: (hello) => this.dispatchEvent(new CustomEvent('easel-hello', { detail: hello })),
    onFrame: (header, image, first) => {
      if (first) this.joinSeq = header.seq;
      this.presenter.push(header, image);
    },
    counts: () => ({ late: this.presenter.stats.framesLate, shown: this.presenter.stats.framesShown }),
  });

  /** Live counters, for tests and for a technician in DevTools: `document.querySelector('easel-canvas').stats`. */
  get stats(): EaselCanvasStats {
    const s = this.shown;
    const clock = this.socket.clockSync;
    return {
      ...this.presenter.stats,
      state: this.socket.state,
      connects: this.socket.connects,
      disconnects: this.socket.disconnects,
      badMessages: this.socket.badMessages,
      bytesReceived: this.socket.bytesReceived,
      clockOffsetMs: clock.offsetMs,
      rttMs: clock.rttMs,
      clockErrorMs: clock.errorMs,
      shownAt: s && this.shownAt !== undefined ? Math.round(this.shownAt) : null,
      lastFrame: s
        ? { seq: s.seq, imageId: s.imageId, timestamp: s.timestamp, presentAt: s.presentAt, mime: s.mime, width: s.width, height: s.height }
        : null,
    };
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.presenter.idle();
  }

  protected override firstUpdated(): void {
    const [a, b] = this.renderRoot.querySelectorAll('canvas');
    if (a && b) this.presenter.attach([a, b]);
  }

  protected override updated(changed: PropertyValues<this>): void {
    // The first connection is made in hostConnected; only a later change needs a new one.
    if ((['slug', 'server', 'accept', 'token', 'tile'] as const).some((key) => changed.has(key) && changed.get(key) !== undefined))
      this.socket.restart();
    if (changed.has('placeholder')) this.placeholderFailed = false;
    this.dataset.state = this.socket.state;
  }

  protected override render() {
    const layerClass = this.fit === 'cover' ? 'layer cover' : 'layer';
    const showPlaceholder = this.placeholder && !this.shown && !this.placeholderFailed;
    return html`
      ${
        showPlaceholder
          ? html`<img class=${this.fit === 'cover' ? 'placeholder cover' : 'placeholder'} src=${this.placeholder} alt="" draggable="false" @error=${this.onPlaceholderError} />`
          : nothing
      }
      <canvas class=${layerClass}></canvas>
      <canvas class=${layerClass}></canvas>
      ${this.showTime && this.shown ? html`<div class="time ${isLive(this.socket.state) ? '' : 'stale'}">${formatFrameTime(this.shownTime(this.shown))}</div>` : nothing}
      ${this.showLabel && this.slug ? html`<div class="label">${this.slug}</div>` : nothing}
    `;
  }

  private readonly onPlaceholderError = () => {
    this.placeholderFailed = true; // a dark screen rather than a broken-image icon
  };

  /** Page attribute first, then the server's hello, then a cut; a fade never outlasts a frame. */
  private effectiveTransition(): Transition {
    const hello = this.socket.hello;
    const kind = this.transition ?? hello?.transition ?? 'cut';
    let ms = this.transitionMs ?? hello?.transitionMs ?? DEFAULT_CROSSFADE_MS;
    if (hello && hello.fps > 0) ms = Math.min(ms, (1000 / hello.fps) * 0.8);
    return { kind, ms: kind === 'crossfade' ? ms : 0 };
  }

  /** The moment the image changed on this screen, on the server's clock; the frame's own time until the clock is known. */
  private shownTime(header: FrameHeader): string | number {
    return this.shownAt !== undefined ? Math.round(this.shownAt) : header.timestamp;
  }

  /** When to show a frame, on `performance.now()`'s clock; undefined: as soon as it is decoded. */
  private dueAt(header: FrameHeader): number | undefined {
    if (header.presentAt === undefined) return undefined;
    const due = this.socket.clock.toLocal(header.presentAt);
    // The frame sent on joining may be past its time already: shown at once, it is not late, the screen was not there.
    if (due !== undefined && header.seq === this.joinSeq && due < performance.now()) return undefined;
    return due;
  }

  private maxWaiting(): number {
    const hello = this.socket.hello;
    return hello ? waitingCap(hello.fps, hello.leadMs ?? DEFAULT_LEAD_MS) : DEFAULT_MAX_WAITING;
  }
}

/** Whether the frame on screen is still current; the time in the corner dims while it is not. */
function isLive(state: ConnectionState): boolean {
  switch (state) {
    case ConnectionState.Open:
      return true;
    case ConnectionState.Idle:
    case ConnectionState.Connecting:
    case ConnectionState.Waiting:
      return false;
    default:
      return assertNever(state);
  }
}

function assertNever(value: never): never {
  throw new TypeError(`Expected a connection state but received ${String(value)}`);
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-canvas': EaselCanvas;
  }
}
