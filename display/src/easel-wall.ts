import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import './easel-canvas.js';
import { DEFAULT_WALL_SLUGS, wallColumns, type PageOptions } from './page-options.js';

/**
 * Several canvases side by side, each an `<easel-canvas>` with its own connection: two on a
 * landscape screen sit left and right, on a portrait screen one above the other.
 *
 * @example
 * <easel-wall slugs="left-canva,right-canva"></easel-wall>
 */
@customElement('easel-wall')
export class EaselWall extends LitElement {
  static override styles = css`
    :host {
      display: grid;
      width: 100%;
      height: 100%;
      overflow: hidden;
      background: #000;
      cursor: none;
      user-select: none;
      -webkit-user-select: none;
    }
    easel-canvas {
      width: 100%;
      height: 100%;
      min-width: 0;
      min-height: 0;
    }
  `;

  @property({
    converter: (value) =>
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
  })
  slugs: string[] = [...DEFAULT_WALL_SLUGS];

  /** The page's query options, passed to every canvas. */
  @property({ attribute: false }) options: PageOptions = { showTime: true, showLabel: false };

  @state() private columns = 1;
  private observer: ResizeObserver | undefined;

  override connectedCallback(): void {
    super.connectedCallback();
    // A first guess from the window, so each canvas tells the server its real size when it connects.
    this.columns = wallColumns(this.slugs.length, window.innerWidth, window.innerHeight);
    this.observer = new ResizeObserver(([entry]) => {
      if (entry) this.columns = wallColumns(this.slugs.length, entry.contentRect.width, entry.contentRect.height);
    });
    this.observer.observe(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.observer?.disconnect();
    this.observer = undefined;
  }

  protected override willUpdate(): void {
    const columns = Math.min(this.columns, Math.max(1, this.slugs.length));
    const rows = Math.max(1, Math.ceil(this.slugs.length / columns));
    this.style.gridTemplateColumns = `repeat(${columns}, minmax(0, 1fr))`;
    this.style.gridTemplateRows = `repeat(${rows}, minmax(0, 1fr))`;
  }

  protected override render() {
    const o = this.options;
    return html`${repeat(
      this.slugs,
      (slug) => slug,
      (slug) => html`<easel-canvas
        slug=${slug}
        .fit=${o.fit ?? 'contain'}
        .transition=${o.transition}
        .transitionMs=${o.transitionMs}
        .placeholder=${o.placeholder}
        .accept=${o.accept}
        .showTime=${o.showTime}
        .showLabel=${o.showLabel}
      ></easel-canvas>`,
    )}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-wall': EaselWall;
  }
}
