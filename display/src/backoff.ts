/** How a display waits between reconnection attempts. */
export interface BackoffOptions {
  /** Delay before the first retry, before jitter (ms). */
  baseMs: number;
  /** The delay never grows past this (ms). */
  capMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 10_000 };

/**
 * Capped exponential backoff with "equal jitter": the delay doubles per failed attempt up to
 * the cap, and a random half of it is taken off. Every display of an installation then comes
 * back within about a second of a server restart, without all of them knocking at once, and
 * none waits longer than the cap.
 *
 * @example
 * backoffDelay(0, Math.random) // 250–500 ms
 * backoffDelay(9, Math.random) // 5000–10000 ms
 */
export function backoffDelay(attempt: number, random: () => number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const exp = Math.min(options.capMs, options.baseMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  return Math.round(exp / 2 + random() * (exp / 2));
}
