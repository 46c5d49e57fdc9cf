import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { controlStyles } from './console-styles.js';

/** What the element shows: an ApiProblem, or any title/detail/hint of the console's own. */
export interface ProblemText {
  title: string;
  detail?: string | undefined;
  hint?: string | undefined;
}

/**
 * An error from the API shown inline, where the command was given: what happened, and the
 * server's hint about what to do. Announced to screen readers when it appears.
 *
 * @example
 * html`<easel-problem .problem=${this.problem}></easel-problem>`
 */
@customElement('easel-problem')
export class EaselProblem extends LitElement {
  static override styles = [
    controlStyles,
    css`
      :host {
        display: block;
      }
      :host([hidden]) {
        display: none;
      }
      .box {
        border: 1px solid color-mix(in srgb, var(--easel-bad, #ff7b72) 55%, transparent);
        background: color-mix(in srgb, var(--easel-bad, #ff7b72) 12%, transparent);
        border-radius: 8px;
        padding: 8px 12px;
        overflow-wrap: anywhere;
      }
      .title {
        font-weight: 600;
      }
      .hint {
        margin-top: 4px;
      }
    `,
  ];

  @property({ attribute: false }) problem: ProblemText | undefined;

  protected override render() {
    const p = this.problem;
    // The live region stays in the DOM (empty, it takes no room) so that a new message in it is announced.
    return html`<div role="alert">
      ${
        p
          ? html`<div class="box">
            <div class="title">${p.title}${p.detail ? html`: <span class="detail">${p.detail}</span>` : nothing}</div>
            ${p.hint ? html`<div class="hint muted">${p.hint}</div>` : nothing}
          </div>`
          : nothing
      }
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-problem': EaselProblem;
  }
}
