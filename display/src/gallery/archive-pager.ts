import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { ApiProblem } from '../console/operator-api.js';
import type { ArchiveItem, ArchiveItemsPage } from './archive-api.js';

export interface ArchivePagerOptions {
  /** One page: the first without a cursor, then each `next`. */
  load(cursor: string | undefined): Promise<ArchiveItemsPage>;
  /** A page could not be had; `retry` asks for it again. */
  onProblem(problem: ApiProblem, retry: () => void): void;
  /** How far below the screen the next page is asked for, so scrolling rarely waits (CSS margin). */
  rootMargin?: string;
}

/**
 * The gallery's endless list: pages of the archive, newest first, the next one asked for when
 * the element after the grid (`observe(sentinel)`) comes near the screen. A reset (new filters)
 * drops every page and any reply still on its way for the old filters.
 *
 * @example
 * pager = new ArchivePager(this, { load: (cursor) => archive.list(filters, 40, cursor), onProblem });
 * pager.reset(); // first page
 * html`<div ${ref((el) => pager.observe(el))}></div>`
 */
export class ArchivePager implements ReactiveController {
  items: ArchiveItem[] = [];
  /** The cursor of the next page; null after the last page, undefined before the first. */
  next: string | null | undefined = undefined;
  loading = false;
  problem: ApiProblem | undefined;

  private readonly host: ReactiveControllerHost;
  private readonly options: ArchivePagerOptions;
  private generation = 0;
  private observer: IntersectionObserver | undefined;
  private sentinel: Element | undefined;

  constructor(host: ReactiveControllerHost, options: ArchivePagerOptions) {
    this.host = host;
    this.options = options;
    host.addController(this);
  }

  hostConnected(): void {
    this.observer = new IntersectionObserver(
      (entries) => {
        if (entries.some((e) => e.isIntersecting)) void this.loadMore();
      },
      { rootMargin: this.options.rootMargin ?? '800px 0px' },
    );
    if (this.sentinel) this.observer.observe(this.sentinel);
  }

  hostDisconnected(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }

  /** Watches `el` (the element after the grid): near the screen, the next page is loaded. */
  observe(el: Element | undefined): void {
    if (el === this.sentinel) return;
    if (this.sentinel) this.observer?.unobserve(this.sentinel);
    this.sentinel = el;
    if (el) this.observer?.observe(el);
  }

  /** The last page has been read. */
  get done(): boolean {
    return this.next === null;
  }

  /** Forgets every page (the filters changed) and loads the first. */
  reset(): void {
    this.generation++;
    this.items = [];
    this.next = undefined;
    this.loading = false;
    this.problem = undefined;
    this.host.requestUpdate();
    void this.loadMore();
  }

  async loadMore(): Promise<void> {
    if (this.loading || this.next === null || this.problem) return;
    const generation = this.generation;
    this.loading = true;
    this.host.requestUpdate();
    try {
      const page = await this.options.load(this.next);
      if (generation !== this.generation) return;
      const seen = new Set(this.items.map((i) => i.id));
      this.items = [...this.items, ...page.items.filter((i) => !seen.has(i.id))];
      this.next = page.next;
    } catch (err) {
      if (generation !== this.generation) return;
      const problem =
        err instanceof ApiProblem ? err : new ApiProblem({ status: 0, title: 'Cannot read the archive', detail: String(err) });
      this.problem = problem;
      this.options.onProblem(problem, () => {
        this.problem = undefined;
        void this.loadMore();
      });
    } finally {
      if (generation === this.generation) {
        this.loading = false;
        this.host.requestUpdate();
      }
    }
    // A short page leaves the sentinel on screen, and an observer only reports changes: look again.
    if (generation === this.generation && !this.problem && this.next && this.sentinel && this.observer) {
      await this.host.updateComplete;
      this.observer.unobserve(this.sentinel);
      this.observer.observe(this.sentinel);
    }
  }

  /** Puts a changed entry (starred) in its place. */
  replace(item: ArchiveItem): void {
    this.items = this.items.map((i) => (i.id === item.id ? item : i));
    this.host.requestUpdate();
  }
}
