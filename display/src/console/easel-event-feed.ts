import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { repeat } from 'lit/directives/repeat.js';
import type { FeedEntry } from './console-model.js';
import { controlStyles } from './console-styles.js';
import { clockTime } from './describe.js';

/**
 * The last events of the installation, newest first, one readable line each: commands from
 * anywhere (this console, OSC, the CLI, playlists), job progress, playlist steps, lost and
 * regained connections.
 *
 * @example
 * html`<easel-event-feed .entries=${model.feed}></easel-event-feed>`
 */
@customElement('easel-event-feed')
export class EaselEventFeed extends LitElement {
  static override styles = [
    controlStyles,
    css`
      :host {
        display: block;
      }
      h2 {
        font-size: 1rem;
        margin: 0 0 8px;
      }
      ol {
        list-style: none;
        margin: 0;
        padding: 0;
        font-size: 0.9rem;
        max-height: var(--easel-feed-height, none);
        overflow-y: auto;
      }
      li {
        display: grid;
        grid-template-columns: auto 1fr;
        gap: 8px;
        padding: 6px 0;
        border-top: 1px solid var(--easel-line-soft, #262a31);
        overflow-wrap: anywhere;
      }
      time {
        font-family: ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace;
        font-variant-numeric: tabular-nums;
        font-size: 0.85em;
        padding-top: 0.1em;
      }
      .tone-good,
      .tone-info {
        color: inherit;
      }
      .empty {
        margin: 0;
        font-size: 0.9rem;
      }
    `,
  ];

  @property({ attribute: false }) entries: readonly FeedEntry[] = [];

  protected override render() {
    return html`
      <h2 id="feed-title">Events</h2>
      ${this.entries.length === 0 ? html`<p class="empty muted">Nothing yet. Commands, job progress and playlist steps appear here as they happen.</p>` : nothing}
      <ol role="log" aria-labelledby="feed-title">
        ${repeat(
          this.entries,
          (e) => e.id,
          (e) =>
            html`<li class="tone-${e.tone}"><time class="muted" datetime=${new Date(e.at).toISOString()}>${clockTime(e.at)}</time><span>${e.text}</span></li>`,
        )}
      </ol>
    `;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-event-feed': EaselEventFeed;
  }
}
