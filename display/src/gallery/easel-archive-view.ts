import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { controlStyles } from '../console/console-styles.js';
import '../console/easel-problem.js';
import type { ProblemText } from '../console/easel-problem.js';
import { type ArchiveItem, downloadName } from './archive-api.js';

/** How long "show on canvas" holds the picture before the canvas goes on with its source. */
export const HOLDS = [
  { value: '10s', label: '10 s' },
  { value: '30s', label: '30 s' },
  { value: '1m', label: '1 min' },
  { value: '5m', label: '5 min' },
  { value: '30m', label: '30 min' },
] as const;

export type ShowEvent = CustomEvent<{ item: ArchiveItem; canvas: string; hold: string }>;
export type StarEvent = CustomEvent<{ item: ArchiveItem; starred: boolean }>;
export type StepEvent = CustomEvent<{ by: -1 | 1 }>;

/**
 * One archived frame full size, with what made it and when it was shown, and what can be done
 * with it: star, download the original, show it again on a canvas. The gallery does the
 * commands (it holds the token) and passes back `busy`, `problem` and `notice`.
 *
 * @example
 * html`<easel-archive-view .item=${item} .src=${url} .canvases=${slugs} @easel-archive-close=${close}></easel-archive-view>`
 */
@customElement('easel-archive-view')
export class EaselArchiveView extends LitElement {
  static override styles = [
    controlStyles,
    css`
      :host {
        position: fixed;
        inset: 0;
        z-index: 10;
        display: flex;
        flex-direction: column;
        background: rgb(8 9 12 / 0.96);
        overflow-y: auto;
        overscroll-behavior: contain;
      }
      .bar {
        display: flex;
        gap: 8px;
        align-items: center;
        padding: 8px 12px;
      }
      .bar .title {
        flex: 1;
        min-width: 0;
        overflow: hidden;
        text-overflow: ellipsis;
        white-space: nowrap;
      }
      .body {
        display: grid;
        gap: 16px;
        padding: 0 12px 24px;
        flex: 1;
      }
      figure {
        margin: 0;
        display: flex;
        align-items: center;
        justify-content: center;
        min-height: 0;
      }
      figure img {
        display: block;
        width: 100%;
        height: auto;
        max-height: calc(100vh - 80px);
        object-fit: contain;
      }
      @media (min-width: 900px) {
        .body {
          grid-template-columns: minmax(0, 1fr) 360px;
          align-items: start;
        }
        aside {
          max-height: calc(100vh - 72px);
          overflow-y: auto;
        }
      }
      aside {
        display: grid;
        gap: 12px;
        align-content: start;
      }
      .prompt {
        font-size: 1.05rem;
        margin: 0;
        overflow-wrap: anywhere;
      }
      dl {
        display: grid;
        grid-template-columns: max-content minmax(0, 1fr);
        gap: 4px 12px;
        margin: 0;
      }
      dt {
        color: var(--easel-muted, #9aa3ae);
      }
      dd {
        margin: 0;
        overflow-wrap: anywhere;
      }
      .actions,
      .show {
        display: flex;
        flex-wrap: wrap;
        gap: 8px;
        align-items: center;
      }
      .show select {
        flex: 1;
      }
      a.button {
        display: inline-flex;
        align-items: center;
        min-height: 44px;
        padding: 0 14px;
        border-radius: 8px;
        border: 1px solid var(--easel-line, #3a404b);
        background: var(--easel-button, #262a32);
        text-decoration: none;
      }
      button[aria-pressed='true'] {
        color: #f2c14e;
        border-color: #f2c14e;
      }
    `,
  ];

  @property({ attribute: false }) item: ArchiveItem | undefined;
  /** The original image's URL (with the read token). */
  @property() src = '';
  /** The canvas slugs it can be shown on. */
  @property({ attribute: false }) canvases: string[] = [];
  /** A command is on its way: its button waits. */
  @property() busy: 'star' | 'show' | '' = '';
  @property({ attribute: false }) problem: ProblemText | undefined;
  /** What the last command did ("Shown on wall-1 for 30 s"). */
  @property() notice = '';

  @state() private canvas = '';
  @state() private hold: string = HOLDS[1].value;

  override connectedCallback(): void {
    super.connectedCallback();
    this.setAttribute('role', 'dialog');
    this.setAttribute('aria-modal', 'true');
    this.setAttribute('aria-label', 'Archived frame');
    document.addEventListener('keydown', this.onKey);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    document.removeEventListener('keydown', this.onKey);
  }

  /** The canvases offered: the server's list, and the frame's own canvas even when the list could not be had. */
  private get choices(): string[] {
    const item = this.item;
    return !item || this.canvases.includes(item.canvas) ? this.canvases : [item.canvas, ...this.canvases];
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    // Offer the frame's own canvas first; keep a canvas the operator chose while they step through.
    if ((changed.has('item') || changed.has('canvases')) && this.item && !this.choices.includes(this.canvas))
      this.canvas = this.item.canvas;
  }

  protected override render() {
    const item = this.item;
    if (!item) return nothing;
    return html`
      <div class="bar">
        <button type="button" @click=${() => this.step(-1)} title="Newer (←)" aria-label="Newer">‹</button>
        <button type="button" @click=${() => this.step(1)} title="Older (→)" aria-label="Older">›</button>
        <span class="title muted">${item.canvas} · ${formatTime(item.shownAt || item.madeAt)}</span>
        <button type="button" class="close" @click=${this.close} title="Close (Esc)">Close</button>
      </div>
      <div class="body">
        <figure><img src=${this.src} alt=${item.prompt ?? `Frame of ${item.canvas}`} width=${item.width} height=${item.height} /></figure>
        <aside>
          ${item.prompt ? html`<p class="prompt" data-role="prompt">${item.prompt}</p>` : html`<p class="prompt muted">No prompt (${item.source})</p>`}
          <div class="actions">
            <button type="button" data-role="star" aria-pressed=${item.starred ? 'true' : 'false'} ?disabled=${this.busy === 'star'} @click=${this.onStar}>
              ${item.starred ? '★ Starred' : '☆ Star'}
            </button>
            <a class="button" data-role="download" href=${this.src} download=${downloadName(item)}>Download</a>
          </div>
          <form class="show" @submit=${this.onShow}>
            <label class="visually-hidden" for="canvas">Canvas</label>
            <select id="canvas" data-role="show-canvas" @change=${(e: Event) => (this.canvas = (e.target as HTMLSelectElement).value)}>
              ${this.choices.map((slug) => html`<option value=${slug} .selected=${slug === this.canvas}>${slug}</option>`)}
            </select>
            <label class="visually-hidden" for="hold">For</label>
            <select id="hold" data-role="show-hold" @change=${(e: Event) => (this.hold = (e.target as HTMLSelectElement).value)}>
              ${HOLDS.map((h) => html`<option value=${h.value} .selected=${h.value === this.hold}>${h.label}</option>`)}
            </select>
            <button class="primary" type="submit" ?disabled=${this.busy === 'show' || !this.canvas}>Show on canvas</button>
          </form>
          ${this.notice ? html`<p class="tone-good" role="status" data-role="notice">${this.notice}</p>` : nothing}
          <easel-problem .problem=${this.problem}></easel-problem>
          <dl data-role="facts">${facts(item).map(([k, v]) => html`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
        </aside>
      </div>
    `;
  }

  private emit<K extends keyof ArchiveViewEvents>(type: K, detail: ArchiveViewEvents[K]['detail']): void {
    this.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true }));
  }

  private close = (): void => this.emit('easel-archive-close', {});

  private step(by: -1 | 1): void {
    this.emit('easel-archive-step', { by });
  }

  private onStar = (): void => {
    if (this.item) this.emit('easel-archive-star', { item: this.item, starred: !this.item.starred });
  };

  private onShow = (event: SubmitEvent): void => {
    event.preventDefault();
    if (this.item && this.canvas) this.emit('easel-archive-show', { item: this.item, canvas: this.canvas, hold: this.hold });
  };

  private readonly onKey = (event: KeyboardEvent): void => {
    // Keys typed into a field (a token, say) are the field's.
    if (event.composedPath().some((el) => el instanceof HTMLInputElement || el instanceof HTMLSelectElement)) return;
    if (event.key === 'Escape') this.close();
    else if (event.key === 'ArrowLeft') this.step(-1);
    else if (event.key === 'ArrowRight') this.step(1);
  };
}

/** The metadata rows shown for a frame: only what the source knew. */
export function facts(item: ArchiveItem): Array<[string, string]> {
  const rows: Array<[string, string | number | undefined]> = [
    ['Negative prompt', item.negativePrompt],
    ['Seed', item.seed],
    ['Steps', item.steps],
    ['Strength', item.strength],
    ['Guidance', item.guidance],
    ['Model', item.model],
    ['Canvas', item.canvas],
    ['Source', item.source],
    ['Playlist', item.playlist ? `${item.playlist.name}, step ${item.playlist.step}` : undefined],
    ['Made', formatTime(item.madeAt)],
    ['Shown', item.shownAt ? formatTime(item.shownAt) : undefined],
    ['Displays', item.displays],
    ['Size', item.width && item.height ? `${item.width} × ${item.height}, ${formatBytes(item.bytes)}` : undefined],
    ['Id', item.id],
  ];
  return rows.filter((row): row is [string, string | number] => row[1] !== undefined && row[1] !== '').map(([k, v]) => [k, String(v)]);
}

/** A time as the venue reads it: the day and the time to the second, in this device's zone. */
export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return date.toLocaleString(undefined, {
    year: 'numeric',
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  });
}

function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) return '';
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

interface ArchiveViewEvents {
  'easel-archive-close': CustomEvent<Record<string, never>>;
  'easel-archive-step': StepEvent;
  'easel-archive-star': StarEvent;
  'easel-archive-show': ShowEvent;
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-archive-view': EaselArchiveView;
  }
  interface HTMLElementEventMap extends ArchiveViewEvents {}
}
