import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import '../easel-canvas.js';
import { CanvasState, type CanvasInfo, type JobInfo, type PlaylistInfo } from './api-types.js';
import { controlStyles } from './console-styles.js';
import { canvasBadge, clockTime, lastFrameWords, playlistWords, sourceTrouble, sourceWords } from './describe.js';
import './easel-job-status.js';
import type { CancelJobEvent } from './easel-job-status.js';
import './easel-problem.js';
import './easel-screen-list.js';
import { ApiProblem, type CanvasAction, type OperatorApi } from './operator-api.js';

/** Fired when a command's reply describes the canvas anew. */
export type CanvasChangedEvent = CustomEvent<{ canvas: CanvasInfo }>;
/** Fired when a prompt or a cancel returns a job. */
export type JobChangedEvent = CustomEvent<{ job: JobInfo }>;
/** Fired when the server refused the operator token: the console asks for it again. */
export type AuthFailedEvent = CustomEvent<{ problem: ApiProblem }>;

/** Which command is on its way, so its button shows it and none is sent twice. */
type Busy = 'prompt' | CanvasAction | 'playlist-start' | 'playlist-stop' | 'cancel';

/**
 * One canvas on the console: a live preview, what it shows and how that is going, its displays
 * and last frame, the current job's progress, its controls (prompt, pause, resume, next,
 * playlist), and its screens' clock sync (opened on demand). Commands go straight to the API; errors are shown here, with the server's hint.
 *
 * @example
 * html`<easel-canvas-card .canvas=${c} .job=${job} .playlists=${playlists} .api=${api} .now=${Date.now()}></easel-canvas-card>`
 */
@customElement('easel-canvas-card')
export class EaselCanvasCard extends LitElement {
  static override styles = [
    controlStyles,
    css`
      :host {
        display: block;
        container-type: inline-size;
        background: var(--easel-panel, #181b21);
        border: 1px solid var(--easel-line-soft, #262a31);
        border-radius: 12px;
        padding: 12px;
        min-width: 0;
      }
      article {
        display: grid;
        gap: 12px;
      }
      header {
        display: flex;
        align-items: baseline;
        justify-content: space-between;
        gap: 8px;
        flex-wrap: wrap;
      }
      h2 {
        margin: 0;
        font-size: 1.1rem;
        overflow-wrap: anywhere;
      }
      .badge {
        font-size: 0.85rem;
        font-weight: 600;
        padding: 2px 10px;
        border-radius: 999px;
        border: 1px solid currentColor;
        white-space: nowrap;
      }
      .summary {
        display: grid;
        grid-template-columns: 104px minmax(0, 1fr);
        gap: 12px;
        align-items: start;
      }
      @container (min-width: 400px) {
        .summary {
          grid-template-columns: 148px minmax(0, 1fr);
        }
      }
      .preview {
        display: block;
        aspect-ratio: var(--aspect, 1);
        border-radius: 8px;
        overflow: hidden;
        background: #000;
      }
      easel-canvas {
        /* The display element hides the cursor for wall screens; the console is not one. */
        cursor: pointer;
      }
      dl {
        margin: 0;
        display: grid;
        gap: 4px;
        font-size: 0.9rem;
      }
      dl div {
        display: grid;
        grid-template-columns: 5.6em minmax(0, 1fr);
        gap: 6px;
      }
      dt {
        color: var(--easel-muted, #9aa3ae);
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .trouble {
        margin: 0;
        font-size: 0.9rem;
        overflow-wrap: anywhere;
      }
      .trouble .hint {
        display: block;
        color: var(--easel-muted, #9aa3ae);
      }
      form {
        display: grid;
        gap: 6px;
      }
      .prompt-row {
        display: flex;
        gap: 8px;
        align-items: flex-start;
      }
      textarea {
        flex: 1;
        min-height: 44px;
        max-height: 12em;
        /* Grows with its text where supported; onPromptInput does it elsewhere. */
        field-sizing: content;
      }
      .controls {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
      }
      .controls button {
        flex: 1 1 0;
      }
      .playlist {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px;
      }
      .playlist label {
        flex-basis: 100%;
      }
      .playlist select {
        flex: 1 1 10em;
      }
      .playlist .none {
        flex: 1;
        font-size: 0.9rem;
      }
    `,
  ];

  @property({ attribute: false }) canvas!: CanvasInfo;
  /** The canvas's latest job, kept after it ends. */
  @property({ attribute: false }) job: JobInfo | undefined;
  /** undefined while loading; null when the server has no playlists. */
  @property({ attribute: false }) playlists: readonly PlaylistInfo[] | null | undefined;
  @property({ attribute: false }) api!: OperatorApi;
  /** The time "… ago" is counted from; the console moves it on with each refresh. */
  @property({ attribute: false }) now = Date.now();
  /** Whether to stream the live preview (off while the page is hidden: a phone in a pocket downloads nothing). */
  @property({ attribute: false }) preview = true;
  /** Token the live preview connects with (the operator token works where a display token is set). */
  @property({ attribute: false }) viewToken: string | undefined;

  @state() private busy: Busy | undefined;
  @state() private problem: ApiProblem | undefined;
  @state() private playlist = '';

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('playlists')) {
      const names = (this.playlists ?? []).map((p) => p.name);
      const running = this.canvas.playlist?.playlist;
      if (!names.includes(this.playlist)) this.playlist = running && names.includes(running) ? running : (names[0] ?? '');
    }
  }

  protected override render() {
    const c = this.canvas;
    const id = (part: string) => `${part}-${c.slug}`;
    const state = canvasBadge(c);
    const trouble = sourceTrouble(c.source);
    const paused = c.state === CanvasState.Paused;
    const aspect = c.width && c.height ? `${c.width} / ${c.height}` : '1';
    return html`
      <article aria-labelledby=${id('title')}>
        <header>
          <h2 id=${id('title')}>${c.slug}</h2>
          <span class="badge tone-${state.tone}" data-role="state">${state.text}</span>
        </header>

        <div class="summary">
          <a
            class="preview"
            style="--aspect: ${aspect}"
            href="/c/${c.slug}"
            target="_blank"
            rel="noopener"
            aria-label="Live preview of ${c.slug}: open its display page"
            title="Open the display page of ${c.slug}"
          >
            ${this.preview ? html`<easel-canvas slug=${c.slug} .token=${this.viewToken} .showTime=${false}></easel-canvas>` : nothing}
          </a>
          <dl>
            <div><dt>Showing</dt><dd data-role="source">${sourceWords(c.source)}</dd></div>
            <div><dt>Displays</dt><dd data-role="displays">${this.displaysWords()}</dd></div>
            <div><dt>Last frame</dt><dd data-role="last-frame">${lastFrameWords(c.lastFrame, this.now)}</dd></div>
            ${c.playlist ? html`<div><dt>Playlist</dt><dd data-role="playlist">${playlistWords(c.playlist)}</dd></div>` : nothing}
            ${
              c.holding
                ? html`<div><dt>Still</dt><dd>held ${c.holding.until ? `until ${clockTime(c.holding.until)}` : 'until the next command'}</dd></div>`
                : nothing
            }
          </dl>
        </div>
        ${
          trouble
            ? html`<p class="trouble tone-${trouble.tone}" data-role="trouble">${trouble.text}${trouble.hint ? html`<span class="hint">${trouble.hint}</span>` : nothing}</p>`
            : nothing
        }
        ${
          this.job
            ? html`<easel-job-status data-role="job" .job=${this.job} ?cancelling=${this.busy === 'cancel'} @easel-cancel-job=${this.onCancel}></easel-job-status>`
            : nothing
        }

        <form @submit=${this.onPrompt} aria-label="Prompt for ${c.slug}">
          <label for=${id('prompt')}>Prompt</label>
          <div class="prompt-row">
            <textarea
              id=${id('prompt')}
              name="prompt"
              rows="1"
              maxlength="2000"
              enterkeyhint="send"
              placeholder="a foggy harbour at dawn"
              @keydown=${this.onPromptKey}
              @input=${this.onPromptInput}
            ></textarea>
            <button class="primary" type="submit" ?disabled=${this.busy === 'prompt'}>${this.busy === 'prompt' ? 'Sending…' : 'Generate'}</button>
          </div>
        </form>

        <div class="controls" role="group" aria-label="Playback of ${c.slug}">
          <button type="button" ?disabled=${paused || this.busy !== undefined} @click=${() => this.act('pause')}>Pause</button>
          <button type="button" ?disabled=${!paused || this.busy !== undefined} @click=${() => this.act('resume')}>Resume</button>
          <button type="button" ?disabled=${this.busy !== undefined} @click=${() => this.act('next')}>Next frame</button>
        </div>

        ${this.renderPlaylist(id('playlist'))}
        <easel-screen-list data-role="screens" slug=${c.slug} .api=${this.api} .count=${c.displays}></easel-screen-list>
        <easel-problem .problem=${this.problem}></easel-problem>
      </article>
    `;
  }

  private renderPlaylist(selectId: string) {
    const list = this.playlists;
    const busy = this.busy !== undefined;
    // Stop is there wherever there are playlists, and usable while one runs here (or may: a
    // server that does not say which runs).
    const running = this.canvas.playlist;
    const showStop = (list?.length ?? 0) > 0 || Boolean(running);
    return html`<div class="playlist" role="group" aria-label="Playlist of ${this.canvas.slug}">
      <label for=${selectId}>Playlist</label>
      ${
        list === undefined
          ? html`<span class="none muted">Loading playlists…</span>`
          : list === null || list.length === 0
            ? html`<span class="none muted" data-role="no-playlists">No playlists</span>`
            : html`<select id=${selectId} .value=${this.playlist} @change=${(e: Event) => (this.playlist = (e.target as HTMLSelectElement).value)}>
                ${list.map((p) => html`<option value=${p.name} ?selected=${p.name === this.playlist}>${p.name}${p.status === 'error' ? ' (file has an error)' : ''}</option>`)}
              </select>
              <button type="button" ?disabled=${busy || !this.playlist} @click=${this.onStartPlaylist}>Start</button>`
      }
      ${showStop ? html`<button type="button" ?disabled=${busy || running === null} @click=${this.onStopPlaylist}>Stop</button>` : nothing}
    </div>`;
  }

  /**
   * The preview is a display too, and the server counts it; the technician wants the others.
   * (Read from the preview's own connection state, so it is right once it has connected.)
   */
  private displaysWords(): string {
    const preview = this.renderRoot.querySelector('easel-canvas');
    const self = preview?.stats.state === 'open' ? 1 : 0;
    const others = Math.max(0, this.canvas.displays - self);
    if (!self) return String(others);
    return others === 0 ? 'none besides this preview' : `${others}, besides this preview`;
  }

  private readonly onPromptKey = (event: KeyboardEvent): void => {
    // Enter sends, as on a phone's keyboard; Shift+Enter is a new line.
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      (event.target as HTMLTextAreaElement).form?.requestSubmit();
    }
  };

  /** A long prompt wraps: the field grows to show all of it (up to its max-height, then scrolls). */
  private readonly onPromptInput = (event: Event): void => {
    const field = event.target as HTMLTextAreaElement;
    if (CSS.supports('field-sizing', 'content')) return;
    field.style.height = 'auto';
    field.style.height = `${field.scrollHeight + 2}px`;
  };

  private readonly onPrompt = (event: SubmitEvent): void => {
    event.preventDefault();
    const field = (event.target as HTMLFormElement).elements.namedItem('prompt') as HTMLTextAreaElement;
    const prompt = field.value.trim();
    if (!prompt) {
      this.problem = new ApiProblem({ status: 0, title: 'No prompt', hint: 'Type what the canvas should show, then Generate' });
      field.focus();
      return;
    }
    void this.run('prompt', async () => {
      const job = await this.api.prompt(this.canvas.slug, prompt);
      this.emit('easel-job-changed', { job });
    });
  };

  private act(action: CanvasAction): void {
    void this.run(action, async () => {
      const canvas = await this.api.act(this.canvas.slug, action);
      if (canvas) this.emit('easel-canvas-changed', { canvas });
    });
  }

  private readonly onCancel = (event: CancelJobEvent): void => {
    event.stopPropagation();
    const { job } = event.detail;
    void this.run('cancel', async () => {
      const ended = await this.api.cancelJob(job.id);
      if (ended) this.emit('easel-job-changed', { job: ended });
    });
  };

  private readonly onStartPlaylist = (): void => {
    const name = this.playlist;
    void this.run('playlist-start', async () => {
      const canvas = await this.api.startPlaylist(this.canvas.slug, name);
      if (canvas) this.emit('easel-canvas-changed', { canvas });
    });
  };

  private readonly onStopPlaylist = (): void => {
    void this.run('playlist-stop', async () => {
      const canvas = await this.api.stopPlaylist(this.canvas.slug);
      if (canvas) this.emit('easel-canvas-changed', { canvas });
    });
  };

  /** One command at a time per card; a refused token goes up to the console, any other error stays here. */
  private async run(what: Busy, command: () => Promise<void>): Promise<void> {
    if (this.busy) return;
    this.busy = what;
    this.problem = undefined;
    try {
      await command();
    } catch (err) {
      const problem =
        err instanceof ApiProblem
          ? err
          : new ApiProblem({ status: 0, title: 'The command failed', detail: err instanceof Error ? err.message : String(err) });
      if (problem.isAuth) this.emit('easel-auth-failed', { problem });
      else this.problem = problem;
    } finally {
      this.busy = undefined;
    }
  }

  private emit<K extends 'easel-canvas-changed' | 'easel-job-changed' | 'easel-auth-failed'>(
    type: K,
    detail: HTMLElementEventMap[K]['detail'],
  ): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-canvas-card': EaselCanvasCard;
  }
  interface HTMLElementEventMap {
    'easel-canvas-changed': CanvasChangedEvent;
    'easel-job-changed': JobChangedEvent;
    'easel-auth-failed': AuthFailedEvent;
  }
}
