import { html, LitElement, nothing } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import { controlStyles, pageTheme } from '../console/console-styles.js';
import '../console/easel-problem.js';
import type { ProblemText } from '../console/easel-problem.js';
import '../console/easel-token-gate.js';
import type { TokenEnteredEvent } from '../console/easel-token-gate.js';
import { OperatorAccess } from '../console/operator-access.js';
import { ApiProblem, createApiRequest, createOperatorApi } from '../console/operator-api.js';
import { type ArchiveItem, createArchiveApi } from './archive-api.js';
import { ArchivePager } from './archive-pager.js';
import './easel-archive-view.js';
import { HOLDS, type ShowEvent, type StarEvent, type StepEvent } from './easel-archive-view.js';
import { type GalleryFilters, readFilters, sameFilters, writeFilters } from './gallery-filters.js';
import { galleryStyles } from './gallery-styles.js';

/** Entries per request: a few screens of thumbnails on a laptop. */
export const PAGE_SIZE = 48;
/** Typing in the prompt filter asks the server once the typist pauses this long. */
const TYPING_MS = 350;

/**
 * The gallery at `/gallery`: every archived frame as a thumbnail, newest first, loaded page by
 * page as the grid is scrolled, narrowed by canvas, prompt words, day and stars (kept in the
 * address). A thumbnail opens the frame full size with its metadata, to star, download or
 * show again on a canvas. Reads send the operator token once there is one, else the display
 * token of the page's own `?token=`. Changes need the operator token: it is asked for (with
 * the console's gate, and kept under the console's key) when the server refuses a change, and
 * the change is made once a token is accepted; the grid, filters and open frame stay as they were.
 *
 * @example
 * <easel-gallery></easel-gallery>
 */
@customElement('easel-gallery')
export class EaselGallery extends LitElement {
  static override styles = [controlStyles, pageTheme, galleryStyles];

  @state() private filters: GalleryFilters = readFilters(window.location.search);
  @state() private canvases: string[] = [];
  /** The frame shown full size. */
  @state() private open: ArchiveItem | undefined;
  /** The token gate is shown: for a change the server refused, or for reading at all. */
  @state() private gate: 'read' | 'change' | undefined;
  @state() private viewBusy: 'star' | 'show' | '' = '';
  @state() private viewProblem: ProblemText | undefined;
  @state() private viewNotice = '';

  /** What to do once the gate has a token the server accepts. */
  private pending: (() => Promise<void>) | undefined;
  private typing: number | undefined;
  private readonly urlToken = new URLSearchParams(window.location.search).get('token') ?? '';
  private readonly api = createOperatorApi({ token: () => this.operator.token ?? '' });
  private readonly archive = createArchiveApi({
    request: createApiRequest({ token: () => this.operator.token ?? '' }),
    readToken: () => this.operator.token || this.urlToken,
  });
  private readonly operator = new OperatorAccess(this, { checkToken: (token) => this.api.checkToken(token) });
  private readonly pager = new ArchivePager(this, {
    load: (cursor) => this.archive.list(this.filters, PAGE_SIZE, cursor),
    onProblem: (problem, retry) => {
      if (problem.isAuth) this.askToken('read', problem, async () => retry());
    },
  });

  override connectedCallback(): void {
    super.connectedCallback();
    // A token kept from the console is checked first, so the first page is read with it.
    void this.operator.restored.then(() => {
      this.pager.reset();
      void this.loadCanvases();
      void this.openFromAddress();
    });
  }

  protected override updated(): void {
    this.pager.observe(this.renderRoot.querySelector('.end') ?? undefined);
  }

  protected override render() {
    return html`
      <header class="top">
        <div class="title">
          <h1>Easel gallery</h1>
          <a class="link" href="/operator">Console</a>
          ${this.operator.token !== undefined ? html`<button type="button" @click=${() => this.operator.lock()} title="Forget the token on this device">Lock</button>` : nothing}
        </div>
        ${this.renderFilters()}
      </header>
      <main>
        <ul class="grid" aria-label="Archived frames">
          ${repeat(
            this.pager.items,
            (i) => i.id,
            (i) => this.renderThumb(i),
          )}
        </ul>
        ${this.renderEnd()}
      </main>
      ${
        this.open
          ? html`<easel-archive-view
              .item=${this.open}
              .src=${this.archive.imageUrl(this.open.id)}
              .canvases=${this.canvases}
              .busy=${this.viewBusy}
              .problem=${this.viewProblem}
              .notice=${this.viewNotice}
              @easel-archive-close=${this.closeView}
              @easel-archive-step=${this.onStep}
              @easel-archive-star=${this.onStar}
              @easel-archive-show=${this.onShow}
            ></easel-archive-view>`
          : nothing
      }
      ${this.gate ? this.renderGate() : nothing}
    `;
  }

  private renderFilters() {
    const f = this.filters;
    const canvases = f.canvas && !this.canvases.includes(f.canvas) ? [...this.canvases, f.canvas] : this.canvases;
    return html`<form class="filters" role="search" @submit=${this.onSearch}>
      <select aria-label="Canvas" data-role="canvas" @change=${(e: Event) => this.setFilters({ ...this.filters, canvas: (e.target as HTMLSelectElement).value || undefined })}>
        <option value="" .selected=${!f.canvas}>All canvases</option>
        ${canvases.map((slug) => html`<option value=${slug} .selected=${slug === f.canvas}>${slug}</option>`)}
      </select>
      <input class="q" type="search" aria-label="Prompt words" placeholder="Prompt words" data-role="q" enterkeyhint="search" .value=${f.q ?? ''} @input=${this.onTyping} />
      <input type="date" aria-label="Day" data-role="day" .value=${f.day ?? ''} @change=${(e: Event) => this.setFilters({ ...this.filters, day: (e.target as HTMLInputElement).value || undefined })} />
      <label class="starred"><input type="checkbox" data-role="starred" .checked=${f.starred === true} @change=${(e: Event) => this.setFilters({ ...this.filters, starred: (e.target as HTMLInputElement).checked || undefined })} /> Starred</label>
    </form>`;
  }

  private renderThumb(item: ArchiveItem) {
    const url = (w: 320 | 640) => this.archive.imageUrl(item.id, w);
    const when = new Date(item.shownAt || item.madeAt);
    const time = Number.isNaN(when.getTime())
      ? ''
      : when.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
    return html`<li>
      <button type="button" class="thumb" data-id=${item.id} title=${item.prompt ?? item.canvas} @click=${() => this.show(item)}>
        <img loading="lazy" decoding="async" src=${url(320)} srcset="${url(320)} 320w, ${url(640)} 640w" sizes="(min-width: 640px) 240px, 50vw" alt=${item.prompt ?? `Frame of ${item.canvas}`} />
        ${item.starred ? html`<span class="star" aria-label="Starred">★</span>` : nothing}
      </button>
      <div class="cap">
        <span class="prompt">${item.prompt ?? (item.source === 'upload' ? 'Upload' : item.source)}</span>
        <span class="muted">${time}${this.filters.canvas ? '' : ` · ${item.canvas}`}</span>
      </div>
    </li>`;
  }

  private renderEnd() {
    const { pager } = this;
    let content: unknown = nothing;
    if (pager.problem && !pager.problem.isAuth)
      content = html`<easel-problem .problem=${pager.problem}></easel-problem><button type="button" @click=${() => this.pager.reset()}>Try again</button>`;
    else if (pager.loading || pager.next === undefined) content = html`<span class="muted">Loading…</span>`;
    else if (pager.done && pager.items.length === 0)
      content = html`<span class="muted" data-role="empty">${
        Object.keys(this.filters).length > 0
          ? 'No archived frame matches these filters.'
          : 'The archive is empty: frames an image model made, and images sent to a canvas, appear here once they are shown.'
      }</span>`;
    else if (pager.done)
      content = html`<span class="muted">${pager.items.length === 1 ? 'One frame' : `${pager.items.length} frames`}</span>`;
    return html`<div class="end" data-role="end">${content}</div>`;
  }

  private renderGate() {
    const lead =
      this.gate === 'read'
        ? 'This server shows its archive only with a token.'
        : 'Starring a frame and showing it on a canvas need the operator token.';
    return html`<div class="gate">
      <easel-token-gate heading="Easel gallery" lead=${lead} .problem=${this.operator.problem} ?checking=${this.operator.checking} @easel-token-entered=${this.onTokenEntered}></easel-token-gate>
      ${this.gate === 'change' ? html`<button type="button" class="cancel" @click=${this.cancelGate}>Cancel</button>` : nothing}
    </div>`;
  }

  private setFilters(next: GalleryFilters): void {
    for (const key of Object.keys(next) as Array<keyof GalleryFilters>) if (next[key] === undefined) delete next[key];
    if (sameFilters(next, this.filters)) return;
    this.filters = next;
    const { pathname, search, hash } = window.location;
    history.replaceState(history.state, '', `${pathname}${writeFilters(search, next)}${hash}`);
    this.pager.reset();
  }

  private readonly onTyping = (event: Event): void => {
    const value = (event.target as HTMLInputElement).value.trim();
    window.clearTimeout(this.typing);
    this.typing = window.setTimeout(() => this.setFilters({ ...this.filters, q: value || undefined }), TYPING_MS);
  };

  private readonly onSearch = (event: SubmitEvent): void => {
    event.preventDefault();
    window.clearTimeout(this.typing);
    const q = this.renderRoot.querySelector<HTMLInputElement>('input.q')?.value.trim();
    this.setFilters({ ...this.filters, q: q || undefined });
  };

  private async loadCanvases(): Promise<void> {
    try {
      this.canvases = (await this.api.canvases()).map((c) => c.slug);
    } catch {
      // The filter still offers the canvas in the address; the grid says what is wrong with the server.
    }
  }

  /** An address with `entry=<id>` opens that frame (a link sent from another device). */
  private async openFromAddress(): Promise<void> {
    const id = new URLSearchParams(window.location.search).get('entry');
    if (!id) return;
    try {
      this.open = await this.archive.entry(id);
    } catch {
      this.setEntryInAddress(undefined); // gone (deleted, retention): the grid is what is left to show
    }
  }

  private show(item: ArchiveItem): void {
    this.open = item;
    this.viewProblem = undefined;
    this.viewNotice = '';
    this.setEntryInAddress(item.id);
  }

  private setEntryInAddress(id: string | undefined): void {
    const url = new URL(window.location.href);
    if (id) url.searchParams.set('entry', id);
    else url.searchParams.delete('entry');
    history.replaceState(history.state, '', url);
  }

  private readonly closeView = (): void => {
    this.open = undefined;
    this.setEntryInAddress(undefined);
  };

  private readonly onStep = async (event: StepEvent): Promise<void> => {
    if (!this.open) return;
    const at = this.pager.items.findIndex((i) => i.id === this.open?.id);
    const target = at + event.detail.by;
    if (target >= this.pager.items.length && this.pager.next) await this.pager.loadMore();
    const item = this.pager.items[target];
    if (at >= 0 && item) this.show(item);
  };

  private readonly onStar = (event: StarEvent): void => {
    const { item, starred } = event.detail;
    void this.change('star', async () => {
      const changed = (await this.archive.star(item.id, starred)) ?? { ...item, starred };
      this.pager.replace(changed);
      if (this.open?.id === changed.id) this.open = changed;
    });
  };

  private readonly onShow = (event: ShowEvent): void => {
    const { item, canvas, hold } = event.detail;
    void this.change('show', async () => {
      await this.archive.show(item.id, canvas, hold);
      this.viewNotice = `Shown on ${canvas} for ${HOLDS.find((h) => h.value === hold)?.label ?? hold}`;
    });
  };

  /** A change, sent with the operator token; refused for the token, it asks for one and is made once one is accepted. */
  private async change(what: 'star' | 'show', command: () => Promise<void>): Promise<void> {
    this.viewBusy = what;
    this.viewProblem = undefined;
    this.viewNotice = '';
    try {
      await command();
    } catch (err) {
      const problem = err instanceof ApiProblem ? err : new ApiProblem({ status: 0, title: 'The command failed', detail: String(err) });
      if (problem.isAuth) this.askToken('change', problem, () => this.change(what, command));
      else this.viewProblem = problem;
    } finally {
      this.viewBusy = '';
    }
  }

  private askToken(reason: 'read' | 'change', problem: ProblemText, retry: () => Promise<void>): void {
    this.operator.refused(problem);
    this.pending = retry;
    this.gate = reason;
  }

  private readonly onTokenEntered = async (event: TokenEnteredEvent): Promise<void> => {
    if (!(await this.operator.tryToken(event.detail.token))) return;
    this.gate = undefined;
    const retry = this.pending;
    this.pending = undefined;
    await retry?.();
  };

  private readonly cancelGate = (): void => {
    this.gate = undefined;
    this.pending = undefined;
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-gallery': EaselGallery;
  }
}
