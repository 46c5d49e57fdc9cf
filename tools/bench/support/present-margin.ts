/**
 * How early frames arrive before they are due on screen: margin = the header's `presentAt`
 * (epoch ms, the server's clock) − arrival (epoch ms, the receiver's clock). Positive is early,
 * negative is a frame that came too late to be shown in step. Frames whose header carries no
 * presentAt (protocol v1, JSON, or a canvas with sync off) are left out; with none at all the
 * figure is absent rather than zero. On loopback both clocks are the same machine's.
 */
import { summarize, type Summary } from './stats.js';

export interface PresentMargin {
  /** Frames that carried presentAt and arrived in the window. */
  n: number;
  /** presentAt − arrival, ms: p1 is the tightest margin but a few. */
  marginMs: Summary;
  /** Share of those frames that arrived after their presentAt. */
  lateFraction: number;
}

/** Reads `"presentAt":<number>` from a frame header's JSON text; NaN when it has none. */
export function presentAtOf(headerJson: string): number {
  const m = /"presentAt":(-?\d+(?:\.\d+)?)/.exec(headerJson);
  return m ? Number(m[1]) : Number.NaN;
}

/**
 * Margins of the frames that arrived in [windowStart, windowEnd); `presentAt[i]` NaN where the
 * header had none. Undefined when no frame in the window carried presentAt.
 */
export function presentMargin(
  records: ReadonlyArray<{ at: ArrayLike<number>; presentAt?: ArrayLike<number> | undefined }>,
  windowStart: number,
  windowEnd: number,
): PresentMargin | undefined {
  const margins: number[] = [];
  for (const r of records) {
    if (!r.presentAt) continue;
    for (let i = 0; i < r.at.length; i++) {
      const at = r.at[i]!;
      const due = r.presentAt[i]!;
      if (Number.isNaN(due) || at < windowStart || at >= windowEnd) continue;
      margins.push(due - at);
    }
  }
  if (margins.length === 0) return undefined;
  return { n: margins.length, marginMs: summarize(margins), lateFraction: margins.filter((m) => m < 0).length / margins.length };
}
