import { css } from 'lit';

/**
 * What every console element shares: its controls and tones. The colours are custom properties
 * set once on `<easel-console>` (they inherit into each shadow root). Touch targets are at least
 * 44 px high, as a phone held in one hand needs.
 */
export const controlStyles = css`
  :host {
    font: 15px/1.4 system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', sans-serif;
    color: var(--easel-text, #e8eaed);
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  button,
  input,
  select,
  textarea {
    font: inherit;
    color: inherit;
  }
  button {
    min-height: 44px;
    padding: 0 14px;
    border-radius: 8px;
    border: 1px solid var(--easel-line, #3a404b);
    background: var(--easel-button, #262a32);
    cursor: pointer;
    white-space: nowrap;
  }
  button:hover:not(:disabled) {
    background: var(--easel-button-hover, #30353f);
  }
  button.primary {
    background: var(--easel-accent, #3d7bd9);
    border-color: var(--easel-accent, #3d7bd9);
    color: #fff;
    font-weight: 600;
  }
  button.primary:hover:not(:disabled) {
    background: var(--easel-accent-hover, #4a89e8);
  }
  button:disabled {
    opacity: 0.45;
    cursor: default;
  }
  input,
  select,
  textarea {
    min-height: 44px;
    padding: 8px 10px;
    border-radius: 8px;
    border: 1px solid var(--easel-line, #3a404b);
    background: var(--easel-field, #0f1115);
    min-width: 0;
  }
  textarea {
    resize: vertical;
  }
  :focus-visible {
    outline: 2px solid var(--easel-focus, #8ab4f8);
    outline-offset: 2px;
  }
  label {
    font-weight: 600;
  }
  .muted {
    color: var(--easel-muted, #9aa3ae);
  }
  .tone-good {
    color: var(--easel-good, #6fd394);
  }
  .tone-warn {
    color: var(--easel-warn, #f2c14e);
  }
  .tone-bad {
    color: var(--easel-bad, #ff7b72);
  }
  .tone-info {
    color: var(--easel-info, #9ecbff);
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;

/** The operator pages' colours and page background, shared by the console and the gallery. */
export const pageTheme = css`
  :host {
    --easel-bg: #111317;
    --easel-panel: #181b21;
    --easel-line: #3a404b;
    --easel-line-soft: #262a31;
    --easel-text: #e8eaed;
    --easel-muted: #9aa3ae;
    display: block;
    min-height: 100%;
    background: var(--easel-bg);
  }
`;
