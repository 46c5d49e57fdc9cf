import { css, html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { PlaylistInfo, ServerEvent } from './api-types.js';
import {
  addFeedLine,
  applyCanvas,
  applyCanvasList,
  applyEvent,
  applyJob,
  emptyModel,
  vanishedJobs,
  type ConsoleModel,
} from './console-model.js';
import { controlStyles, pageTheme } from './console-styles.js';
import { Tone } from './describe.js';
import type { AuthFailedEvent, CanvasChangedEvent, JobChangedEvent } from './easel-canvas-card.js';
import './easel-canvas-card.js';
import './easel-event-feed.js';
import './easel-problem.js';
import './easel-token-gate.js';
import type { TokenEnteredEvent } from './easel-token-gate.js';
import { EventStream, StreamState } from './event-stream.js';
import { OperatorAccess } from './operator-access.js';
import { ApiProblem, createOperatorApi } from './operator-api.js';
import { REFRESH_MS, RefreshController } from './refresh-controller.js';

/** Whether the console shows the token gate or the canvases. */
export const ConsoleAccess = {
  Locked: 'locked',
  Open: 'open',
} as const;
export type ConsoleAccess = (typeof ConsoleAccess)[keyof typeof ConsoleAccess];

/**
 * The operator console at `/operator`: the token gate, then every canvas as a card and the
 * event feed. State comes from `GET /api/canvases` (every 2 s while the page is visible) merged
 * with `GET /api/events` (commands, job progress, playlists, as they happen); commands go to
 * the operator API with the token, which OperatorAccess keeps and checks (the gallery shares it).
 *
 * @example
 * <easel-console></easel-console>
 */
@customElement('easel-console')
export class EaselConsole extends LitElement {
  static override styles = [
    controlStyles,
    pageTheme,
    css`
      .top {
        position: sticky;
        top: 0;
        z-index: 1;
        display: flex;
        align-items: center;
        gap: 12px;
        padding: 8px max(12px, env(safe-area-inset-left)) 8px max(12px, env(safe-area-inset-right));
        background: color-mix(in srgb, var(--easel-bg) 92%, transparent);
        backdrop-filter: blur(6px);
        border-bottom: 1px solid var(--easel-line-soft);
      }
      h1 {
        font-size: 1.1rem;
        margin: 0;
        flex: 1;
        white-space: nowrap;
      }
      .link {
        color: var(--easel-info, #9ecbff);
        padding: 10px 4px;
      }
      .live {
        font-size: 0.85rem;
        white-space: nowrap;
      }
      .live::before {
        content: '';
        display: inline-block;
        width: 8px;
        height: 8px;
        border-radius: 50%;
        background: currentColor;
        margin-right: 6px;
        vertical-align: 1px;
      }
      main {
        display: grid;
        gap: 16px;
        padding: 12px max(12px, env(safe-area-inset-left)) 24px max(12px, env(safe-area-inset-right));
        max-width: 1600px;
        margin: 0 auto;
      }
      @media (min-width: 1000px) {
        main {
          grid-template-columns: minmax(0, 1fr) 340px;
          align-items: start;
        }
        easel-event-feed {
          position: sticky;
          top: 72px;
          --easel-feed-height: calc(100vh - 130px);
        }
      }
      .canvases {
        display: grid;
        gap: 12px;
        grid-template-columns: repeat(auto-fill, minmax(min(100%, 340px), 1fr));
        align-items: start;
      }
      .empty {
        margin: 0;
      }
      easel-event-feed {
        background: var(--easel-panel);
        border: 1px solid var(--easel-line-soft);
        border-radius: 12px;
        padding: 12px;
      }
    `,
  ];

  @state() private model: ConsoleModel = emptyModel();
  @state() private playlists: PlaylistInfo[] | null | undefined;
  /** The canvas list cannot be had (the server is down, say). */
  @state() private listProblem: ApiProblem | undefined;
  @state() private loaded = false;
  @state() private now = Date.now();
  @state() private visible = document.visibilityState !== 'hidden';

  private readonly api = createOperatorApi({ token: () => this.operator.token ?? '' });

  /** The token the server accepted; the console is open while there is one. */
  private readonly operator = new OperatorAccess(this, {
    checkToken: (token) => this.api.checkToken(token),
    onChange: () => {
      this.stream.sync();
      this.refresher.sync();
      if (this.access === ConsoleAccess.Open && this.playlists === undefined) void this.loadPlaylists();
    },
  });

  private readonly stream = new EventStream(this, {
    enabled: () => this.access === ConsoleAccess.Open,
    token: () => this.viewToken(),
    onEvent: (event) => this.onServerEvent(event),
    onStateChange: (next, previous) => {
      if (next === StreamState.Reconnecting && previous === StreamState.Open)
        this.note('Lost the connection to the server; reconnecting', Tone.Warn);
      else if (next === StreamState.Open && previous === StreamState.Reconnecting) this.note('Connected to the server again', Tone.Good);
    },
  });

  private readonly refresher = new RefreshController(this, {
    enabled: () => this.access === ConsoleAccess.Open,
    refresh: () => this.loadCanvases(),
    intervalMs: REFRESH_MS,
  });

  override connectedCallback(): void {
    super.connectedCallback();
    document.addEventListener('visibilitychange', this.onVisibility);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('visibilitychange', this.onVisibility);
  }

  /** What the console can show a canvas with: its operator token, else the ?token= of its own address. */
  private viewToken(): string | undefined {
    return this.operator.token || new URLSearchParams(window.location.search).get('token') || undefined;
  }

  get access(): ConsoleAccess {
    return this.operator.token === undefined ? ConsoleAccess.Locked : ConsoleAccess.Open;
  }

  protected override render() {
    switch (this.access) {
      case ConsoleAccess.Locked:
        return html`<easel-token-gate .problem=${this.operator.problem} ?checking=${this.operator.checking} @easel-token-entered=${this.onTokenEntered}></easel-token-gate>`;
      case ConsoleAccess.Open:
        return this.renderConsole();
      default:
        return assertNever(this.access);
    }
  }

  private renderConsole() {
    const { canvases, jobs, feed } = this.model;
    return html`
      <header class="top">
        <h1>Easel console</h1>
        ${this.renderLive()}
        <a class="link" href="/gallery">Gallery</a>
        <button type="button" @click=${this.lock} title="Forget the token on this device">Lock</button>
      </header>
      <main @easel-canvas-changed=${this.onCanvasChanged} @easel-job-changed=${this.onJobChanged} @easel-auth-failed=${this.onAuthFailed}>
        <section class="canvases" aria-label="Canvases">
          ${this.listProblem ? html`<easel-problem .problem=${this.listProblem}></easel-problem>` : nothing}
          ${
            canvases.length === 0
              ? html`<p class="empty muted">${this.loaded ? 'No canvases yet: a display opening /c/<slug> creates one, or declare them in the config.' : 'Loading the canvases…'}</p>`
              : repeat(
                  canvases,
                  (c) => c.slug,
                  (c) => html`<easel-canvas-card
                  data-slug=${c.slug}
                  .canvas=${c}
                  .job=${jobs[c.slug]?.job}
                  .playlists=${this.playlists}
                  .api=${this.api}
                  .now=${this.now}
                  .preview=${this.visible}
                  .viewToken=${this.viewToken()}
                ></easel-canvas-card>`,
                )
          }
        </section>
        <easel-event-feed .entries=${feed}></easel-event-feed>
      </main>
    `;
  }

  private renderLive() {
    const state = this.stream.state;
    switch (state) {
      case StreamState.Open:
        return html`<span class="live tone-good" role="status">Live</span>`;
      case StreamState.Idle:
      case StreamState.Connecting:
        return html`<span class="live muted" role="status">Connecting…</span>`;
      case StreamState.Reconnecting:
        return html`<span class="live tone-warn" role="status">Reconnecting…</span>`;
      default:
        return assertNever(state);
    }
  }

  private async loadCanvases(): Promise<void> {
    const requestedAt = Date.now();
    try {
      const list = await this.api.canvases();
      if (this.access !== ConsoleAccess.Open) return;
      const missed = vanishedJobs(this.model, list, requestedAt);
      this.model = applyCanvasList(this.model, list, requestedAt);
      this.listProblem = undefined;
      this.loaded = true;
      for (const id of missed) void this.recheckJob(id);
    } catch (err) {
      this.listProblem =
        err instanceof ApiProblem ? err : new ApiProblem({ status: 0, title: 'Cannot read the canvases', detail: String(err) });
    } finally {
      this.now = Date.now();
    }
  }

  private async recheckJob(id: string): Promise<void> {
    const job = await this.api.job(id).catch(() => undefined);
    if (job) this.model = applyJob(this.model, job, Date.now());
  }

  private async loadPlaylists(): Promise<void> {
    try {
      this.playlists = await this.api.playlists();
    } catch {
      this.playlists = null; // shown as "No playlists"; the commands themselves still say what is wrong
    }
  }

  private onServerEvent(event: ServerEvent): void {
    this.model = applyEvent(this.model, event, Date.now());
    if (event.type === 'hello') this.loaded = true;
    // A playlist file was added, changed, broken or removed: the list may have changed.
    if (event.type === 'playlist' && event.event.startsWith('file-')) void this.loadPlaylists();
  }

  private note(text: string, tone: Tone): void {
    this.model = addFeedLine(this.model, { text, tone }, Date.now());
  }

  private readonly onVisibility = (): void => {
    this.visible = document.visibilityState !== 'hidden';
  };

  private readonly onTokenEntered = (event: TokenEnteredEvent): void => {
    void this.operator.tryToken(event.detail.token);
  };

  private readonly onCanvasChanged = (event: CanvasChangedEvent): void => {
    this.model = applyCanvas(this.model, event.detail.canvas, Date.now());
  };

  private readonly onJobChanged = (event: JobChangedEvent): void => {
    this.model = applyJob(this.model, event.detail.job, Date.now());
  };

  private readonly onAuthFailed = (event: AuthFailedEvent): void => {
    this.operator.refused(event.detail.problem);
  };

  private readonly lock = (): void => {
    this.operator.lock();
  };
}

function assertNever(value: never): never {
  throw new TypeError(`Expected a console state but received ${String(value)}`);
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-console': EaselConsole;
  }
}
