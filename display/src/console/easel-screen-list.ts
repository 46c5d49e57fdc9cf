import { css, html, LitElement, nothing, type PropertyValues } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import {
  count,
  formatClockOffset,
  formatDuration,
  judgeScreen,
  lateWords,
  ScreenHealth,
  type ScreenEntry,
  screenHealth,
  screenName,
  screensWorstFirst,
  wireWords,
} from '../../../protocol/screen-sync.js';
import { controlStyles } from './console-styles.js';
import './easel-problem.js';
import { ApiProblem, type OperatorApi } from './operator-api.js';
import { REFRESH_MS, RefreshController } from './refresh-controller.js';

/** A phone scrolls past this many; the worst come first, so the rest are the ones in step. */
export const SCREENS_SHOWN = 50;

/**
 * A canvas's screens and how each keeps time: address (or id), protocol, rendition, clock
 * offset, round trip, estimated error, late frames; worst first, a screen whose clock is
 * uncertain or that shows frames late marked in amber with what to do. Closed by default: the
 * list is fetched only while it is open (and the page visible), at the console's usual
 * refresh (less often when the list takes long to get), so a wall of 2,000 screens costs
 * nothing until someone looks.
 *
 * @example
 * html`<easel-screen-list slug="lobby" .api=${api} .count=${canvas.displays}></easel-screen-list>`
 */
@customElement('easel-screen-list')
export class EaselScreenList extends LitElement {
  static override styles = [
    controlStyles,
    css`
      :host {
        display: block;
        font-size: 0.9rem;
      }
      summary {
        min-height: 44px;
        display: flex;
        align-items: center;
        gap: 8px;
        cursor: pointer;
        font-weight: 600;
        list-style-position: inside;
      }
      summary::-webkit-details-marker {
        display: none;
      }
      summary::before {
        content: '▸';
        display: inline-block;
        transition: transform 0.15s;
      }
      details[open] > summary::before {
        transform: rotate(90deg);
      }
      summary .marked {
        font-weight: 400;
      }
      ul {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: 6px;
      }
      li {
        padding: 6px 10px;
        border-radius: 8px;
        background: var(--easel-field, #0f1115);
        border-left: 3px solid var(--easel-line, #3a404b);
        overflow-wrap: anywhere;
      }
      li.uncertain {
        border-left-color: var(--easel-warn, #f2c14e);
      }
      .name {
        font-weight: 600;
      }
      .facts {
        display: flex;
        flex-wrap: wrap;
        gap: 0 12px;
      }
      .facts span {
        white-space: nowrap;
      }
      .note {
        display: block;
      }
      p {
        margin: 6px 0 0;
      }
    `,
  ];

  @property() slug = '';
  @property({ attribute: false }) api!: OperatorApi;
  /** The canvas's display count from the list; shown in the summary until the screens are loaded. */
  @property({ attribute: false }) count = 0;

  @state() private open = false;
  /** Worst first, as last loaded. */
  @state() private screens: ScreenEntry[] | undefined;
  @state() private marked = 0;
  @state() private problem: ApiProblem | undefined;

  /** How long the last load took, request and reading together. */
  private loadMs = 0;

  private readonly refresher = new RefreshController(this, {
    enabled: () => this.open,
    refresh: () => this.load(),
    // A big wall's list is large (about 300 KB per 1,000 screens): a console left open never
    // spends more than a tenth of its time, or the server's, on it.
    intervalMs: () => Math.max(REFRESH_MS, this.loadMs * 10),
  });

  protected override updated(changed: PropertyValues): void {
    if (changed.has('open')) this.refresher.sync();
  }

  protected override render() {
    const marked = this.marked;
    const total = this.screens?.length ?? this.count;
    return html`<details @toggle=${this.onToggle} ?open=${this.open}>
      <summary data-role="screens-summary">
        Screens (${count(total)})${
          marked > 0 ? html`<span class="marked tone-warn">— ${count(marked)} need${marked === 1 ? 's' : ''} a look</span>` : nothing
        }
      </summary>
      ${this.open ? this.renderList() : nothing}
    </details>`;
  }

  private renderList() {
    if (this.problem) return html`<easel-problem .problem=${this.problem}></easel-problem>`;
    if (!this.screens) return html`<p class="muted">Loading the screens…</p>`;
    if (this.screens.length === 0) return html`<p class="muted">No screen is connected.</p>`;
    const sorted = this.screens;
    const rest = sorted.length - SCREENS_SHOWN;
    return html`<ul aria-label="Screens of ${this.slug}, worst first">
        ${sorted.slice(0, SCREENS_SHOWN).map((s) => this.renderScreen(s))}
      </ul>
      ${rest > 0 ? html`<p class="muted" data-role="screens-more">and ${count(rest)} more, none worse than these</p>` : nothing}`;
  }

  private renderScreen(s: ScreenEntry) {
    const verdict = judgeScreen(s);
    const sync = s.sync;
    const uncertain = verdict.health === ScreenHealth.Uncertain;
    return html`<li class=${uncertain ? 'uncertain' : ''} data-role="screen" data-id=${String(s.id)} data-health=${verdict.health}>
      <div class="facts">
        <span class="name">${screenName(s)}</span>
        <span>${wireWords(s)}</span>
        ${s.rendition ? html`<span>${s.rendition}</span>` : nothing}
      </div>
      <div class="facts" data-role="screen-sync">
        ${s.clockOffsetMs === null || s.clockOffsetMs === undefined ? nothing : html`<span>clock ${formatClockOffset(s.clockOffsetMs)}</span>`}
        ${
          sync
            ? html`<span>round trip ${formatDuration(sync.rttMs)}</span>
                <span>error ±${formatDuration(sync.errorMs)}</span>
                <span>${lateWords(sync)} frames</span>`
            : nothing
        }
      </div>
      ${verdict.note ? html`<span class="note ${uncertain ? 'tone-warn' : 'muted'}" data-role="screen-note">${verdict.note}</span>` : nothing}
    </li>`;
  }

  private readonly onToggle = (event: Event): void => {
    this.open = (event.target as HTMLDetailsElement).open;
  };

  private async load(): Promise<void> {
    const slug = this.slug;
    const started = performance.now();
    try {
      const screens = await this.api.screens(slug);
      if (slug !== this.slug) return;
      this.screens = screensWorstFirst(screens);
      this.marked = screens.filter((s) => screenHealth(s) === ScreenHealth.Uncertain).length;
      this.loadMs = performance.now() - started;
      this.problem = undefined;
    } catch (err) {
      this.problem = err instanceof ApiProblem ? err : new ApiProblem({ status: 0, title: 'Cannot read the screens', detail: String(err) });
    }
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-screen-list': EaselScreenList;
  }
}
