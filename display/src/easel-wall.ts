import { css, html, LitElement } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import './easel-canvas.js';
import type { HelloMessage } from '../../protocol/wire.js';
import { DEFAULT_WALL_SLUGS, wallColumns, type PageOptions } from './page-options.js';
import { wallLayout, type TilePlace } from './wall-grid.js';

/**
 * Several canvases side by side, each an `<easel-canvas>` with its own connection: two on a
 * landscape screen sit left and right, on a portrait screen one above the other. With `grid`,
 * the tiles of one tiled canvas instead, each in its place on the wall with the bezel gaps dark:
 * tile 1,1 connects first and its hello tells the grid.
 *
 * @example
 * <easel-wall slugs="left-canva,right-canva"></easel-wall>
 * <easel-wall grid="lobby"></easel-wall>
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
    :host([grid]) {
      display: flex;
      align-items: center;
      justify-content: center;
      container-type: size;
    }
    .wall {
      position: relative;
      /* The bezel gaps: dark, but not the black of a dark tile, so the grid reads. */
      background: #1c1c1c;
    }
    .wall easel-canvas {
      position: absolute;
    }
  `;

  /** A tiled canvas to preview whole: every tile of its grid in its place. */
  @property({ reflect: true }) grid?: string;

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
  @state() private tiles: TilePlace[] = [{ tile: '1,1', left: 0, top: 0, width: 100, height: 100 }];
  @state() private aspect = 16 / 9;
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
    if (this.grid) return;
    const columns = Math.min(this.columns, Math.max(1, this.slugs.length));
    const rows = Math.max(1, Math.ceil(this.slugs.length / columns));
    this.style.gridTemplateColumns = `repeat(${columns}, minmax(0, 1fr))`;
    this.style.gridTemplateRows = `repeat(${rows}, minmax(0, 1fr))`;
  }

  private readonly onHello = (event: Event) => {
    const grid = (event as CustomEvent<HelloMessage>).detail.grid;
    if (!grid) return;
    const layout = wallLayout(grid);
    this.aspect = layout.aspect;
    this.tiles = layout.tiles;
  };

  private renderGrid(slug: string) {
    const o = this.options;
    const a = this.aspect;
    return html`<div class="wall" style="width: min(100cqw, ${100 * a}cqh); height: min(100cqh, ${100 / a}cqw)">
      ${repeat(
        this.tiles,
        (t) => t.tile,
        (t) => html`<easel-canvas
          slug=${slug}
          tile=${t.tile}
          style="left: ${t.left}%; top: ${t.top}%; width: ${t.width}%; height: ${t.height}%"
          @easel-hello=${t.tile === '1,1' ? this.onHello : undefined}
          .fit=${'cover'}
          .transition=${o.transition}
          .transitionMs=${o.transitionMs}
          .accept=${o.accept}
          .showTime=${o.showTime && t === this.tiles.at(-1)}
          .showLabel=${o.showLabel}
        ></easel-canvas>`,
      )}
    </div>`;
  }

  protected override render() {
    if (this.grid) return this.renderGrid(this.grid);
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
