import { css, html, LitElement, nothing } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import type { JobInfo } from './api-types.js';
import { controlStyles } from './console-styles.js';
import { clockTime, isJobRunning, jobWords } from './describe.js';

/** Fired when the technician asks to cancel the job shown. */
export type CancelJobEvent = CustomEvent<{ job: JobInfo }>;

/**
 * A canvas's latest generation job: "Queued", "Generating 2/4" with a progress bar and a
 * Cancel button, then "Done: 4 frames shown", "Cancelled: …" or "Failed: <reason>" with the
 * time it ended (kept until the next prompt). Changes are announced to screen readers.
 *
 * @example
 * html`<easel-job-status .job=${job} @easel-cancel-job=${onCancel}></easel-job-status>`
 */
@customElement('easel-job-status')
export class EaselJobStatus extends LitElement {
  static override styles = [
    controlStyles,
    css`
      :host {
        display: grid;
        gap: 6px;
        font-size: 0.9rem;
        padding: 8px 10px;
        border-radius: 8px;
        background: var(--easel-field, #0f1115);
      }
      .line {
        display: flex;
        align-items: center;
        justify-content: space-between;
        gap: 8px;
      }
      button {
        min-height: 36px;
      }
      .prompt {
        overflow-wrap: anywhere;
      }
      progress {
        appearance: none;
        width: 100%;
        height: 6px;
        border: none;
        border-radius: 3px;
        overflow: hidden;
        background: var(--easel-line, #3a404b);
      }
      progress::-webkit-progress-bar {
        background: var(--easel-line, #3a404b);
      }
      progress::-webkit-progress-value {
        background: var(--easel-accent, #3d7bd9);
        transition: width 0.2s;
      }
      progress::-moz-progress-bar {
        background: var(--easel-accent, #3d7bd9);
      }
    `,
  ];

  @property({ attribute: false }) job!: JobInfo;
  /** A cancel is on its way: the button waits. */
  @property({ type: Boolean }) cancelling = false;

  protected override updated(): void {
    this.dataset.state = this.job.state;
  }

  protected override render() {
    const { job } = this;
    const words = jobWords(job);
    const running = isJobRunning(job);
    return html`
      <div class="line">
        <span class="tone-${words.tone}" role="status">${words.text}</span>
        ${
          running
            ? html`<button type="button" ?disabled=${this.cancelling} @click=${this.onCancel} aria-label="Cancel the job for ${job.slug}">Cancel</button>`
            : html`<span class="muted">${job.endedAt ? clockTime(job.endedAt) : ''}</span>`
        }
      </div>
      ${running ? html`<progress max=${job.count} .value=${job.produced} aria-label="Frames generated for ${job.slug}"></progress>` : nothing}
      <span class="prompt muted">“${job.prompt}”</span>
    `;
  }

  private readonly onCancel = (): void => {
    this.dispatchEvent(new CustomEvent('easel-cancel-job', { detail: { job: this.job }, bubbles: true, composed: true }));
  };
}

declare global {
  interface HTMLElementTagNameMap {
    'easel-job-status': EaselJobStatus;
  }
  interface HTMLElementEventMap {
    'easel-cancel-job': CancelJobEvent;
  }
}
