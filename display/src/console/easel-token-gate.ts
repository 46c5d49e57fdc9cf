import { css, html, LitElement } from 'lit';
import { customElement, property, query } from 'lit/decorators.js';
import { controlStyles } from './console-styles.js';
import './easel-problem.js';
import type { ProblemText } from './easel-problem.js';

/** Fired with the token the technician entered ('' for a server that needs none). */
export type TokenEnteredEvent = CustomEvent<{ token: string }>;

/**
 * The first thing the console shows: a field for the operator token. The console checks an
 * entered token with the server (`POST /api/auth/check`) before it opens, showing `checking`
 * meanwhile; a refused one stays here with the server's message and hint (`problem`).
 *
 * @example
 * html`<easel-token-gate .problem=${problem} @easel-token-entered=${onToken}></easel-token-gate>`
 */
@customElement('easel-token-gate')
export class EaselTokenGate extends LitElement {
  static override styles = [
    controlStyles,
    css`
      :host {
        display: block;
        max-width: 440px;
        margin: 0 auto;
        padding: max(24px, 8vh) 16px 24px;
      }
      h1 {
        font-size: 1.5rem;
        margin: 0 0 4px;
      }
      p {
        margin: 0 0 16px;
      }
      form {
        display: grid;
        gap: 8px;
        margin-top: 16px;
      }
      .row {
        display: flex;
        gap: 8px;
      }
      input {
        flex: 1;
      }
      .show {
        display: flex;
        align-items: center;
        gap: 8px;
        font-weight: normal;
        min-height: 44px;
      }
      .show input {
        flex: none;
        width: 20px;
        min-height: 0;
        height: 20px;
        margin: 0;
      }
      .note {
        margin-top: 20px;
        font-size: 0.9rem;
      }
      code {
        font-family: ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace;
        font-size: 0.9em;
      }
    `,
  ];

  /** Why the token is asked for again (refused, missing), from the server. */
  @property({ attribute: false }) problem: ProblemText | undefined;
  /** The page's name above the field (the gallery asks with its own). */
  @property() heading = 'Easel console';
  /** What the token opens, under the heading. */
  @property() lead = 'Control the canvases of this installation.';
  /** The server is being asked about the token: the button waits. */
  @property({ type: Boolean }) checking = false;

  @query('#token') private input!: HTMLInputElement;

  protected override firstUpdated(): void {
    this.input.focus();
  }

  protected override render() {
    return html`
      <h1>${this.heading}</h1>
      <p class="muted">${this.lead}</p>
      <easel-problem .problem=${this.problem}></easel-problem>
      <form @submit=${this.onSubmit}>
        <!-- Lets a password manager file the token under a name. -->
        <input type="text" name="username" autocomplete="username" value="easel-operator" hidden />
        <label for="token">Operator token</label>
        <div class="row">
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="current-password"
            autocapitalize="off"
            autocorrect="off"
            spellcheck="false"
            enterkeyhint="go"
            aria-describedby="token-note"
          />
          <button class="primary" type="submit" ?disabled=${this.checking}>${this.checking ? 'Checking…' : 'Open'}</button>
        </div>
        <label class="show"><input type="checkbox" @change=${this.onShow} /> Show the token</label>
      </form>
      <p class="note muted" id="token-note">
        The token is <code>EASEL_OPERATOR_TOKEN</code> on the server, or the one it printed once at start. It is kept on this device until you lock
        the console. A server on loopback with no token set needs none: leave the field empty.
      </p>
    `;
  }

  private onShow(event: Event): void {
    this.input.type = (event.target as HTMLInputElement).checked ? 'text' : 'password';
  }

  private onSubmit(event: SubmitEvent): void {
    event.preventDefault();
    if (this.checking) return;
    const token = this.input.value.trim();
    this.dispatchEvent(new CustomEvent('easel-token-entered', { detail: { token }, bubbles: true, composed: true }));
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-token-gate': EaselTokenGate;
  }
  interface HTMLElementEventMap {
    'easel-token-entered': TokenEnteredEvent;
  }
}
