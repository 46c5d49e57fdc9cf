import { percentile } from '../../tools/bench/support/stats.js';

/** One picture of a screen: when the browser composited it (epoch ms) and the frame code it shows. */
export interface ScreenSample {
  t: number;
  code: number | null;
}

/** The moment a frame came on screen: `seq` counts frames from the first one seen on that screen. */
export interface Appearance {
  seq: number;
  code: number;
  t: number;
}

/**
 * The first sample of each new frame, numbered by how far its code moved on (codes repeat every
 * `codeCount` frames, and a frame a screen never showed leaves a gap). Pictures that name no frame
 * (a blend, black) are passed over.
 */
export function appearances(samples: readonly ScreenSample[], codeCount: number): Appearance[] {
  const out: Appearance[] = [];
  for (const { t, code } of samples) {
    if (code === null) continue;
    const last = out.at(-1);
    if (last === undefined) out.push({ seq: 0, code, t });
    else if (code !== last.code) out.push({ seq: last.seq + ((code - last.code + codeCount) % codeCount), code, t });
  }
  return out;
}

/**
 * Renumbers `b` onto `a`'s count: the two screens started on different frames, and the codes
 * only tell frames apart modulo `codeCount`: of the shifts that keep the codes and pair at least
 * half as many frames as the best, the one whose pairs lie closest in time wins.
 */
export function alignTo(a: readonly Appearance[], b: readonly Appearance[], codeCount: number): Appearance[] {
  if (a.length === 0 || b.length === 0) return [...b];
  const base = (((b[0]!.code - a[0]!.code) % codeCount) + codeCount) % codeCount;
  const bySeq = new Map(a.map((x) => [x.seq, x.t]));
  const candidates = Array.from({ length: 9 }, (_, i) => {
    const shift = base + (i - 4) * codeCount;
    const gaps = b.flatMap((x) => {
      const t = bySeq.get(x.seq + shift);
      return t === undefined ? [] : [Math.abs(t - x.t)];
    });
    return { shift, pairs: gaps.length, median: percentile(Float64Array.from(gaps).sort(), 50) };
  });
  const most = Math.max(...candidates.map((c) => c.pairs));
  const best = candidates.filter((c) => c.pairs > 0 && c.pairs >= most / 2).sort((x, y) => x.median - y.median)[0];
  return b.map((x) => ({ ...x, seq: x.seq + (best?.shift ?? base) }));
}

export interface SkewFigures {
  /** Frames in the window. */
  frames: number;
  /** Of those, frames seen on each screen, and on both. */
  seenA: number;
  seenB: number;
  paired: number;
  /** |tA − tB| over the paired frames, ms. */
  medianMs: number;
  p95Ms: number;
  maxMs: number;
  /** Median of tB − tA: positive when screen B changes after screen A. */
  medianSignedMs: number;
  /** Appearances (anywhere in the recording) whose time did not increase with the frame: a broken recording. */
  outOfOrder: number;
  perFrame: Array<{ seq: number; code: number; tA: number | null; tB: number | null }>;
}

const round = (v: number) => Math.round(v * 10) / 10;

function outOfOrder(list: readonly Appearance[]): number {
  let n = 0;
  for (let i = 1; i < list.length; i++) if (!(list[i]!.t > list[i - 1]!.t && list[i]!.seq > list[i - 1]!.seq)) n++;
  return n;
}

/**
 * Skew over `frames` frames starting `skip` frames after the later of the two screens' first
 * frames (`b` already aligned onto `a`).
 */
export function skewOver(a: readonly Appearance[], b: readonly Appearance[], frames: number, skip: number): SkewFigures {
  const first = Math.max(a[0]?.seq ?? 0, b[0]?.seq ?? 0) + skip;
  const ta = new Map(a.map((x) => [x.seq, x]));
  const tb = new Map(b.map((x) => [x.seq, x]));
  const perFrame: SkewFigures['perFrame'] = [];
  for (let seq = first; seq < first + frames; seq++) {
    const x = ta.get(seq);
    const y = tb.get(seq);
    perFrame.push({ seq, code: (x ?? y)?.code ?? -1, tA: x?.t ?? null, tB: y?.t ?? null });
  }
  const both = perFrame.filter((f) => f.tA !== null && f.tB !== null);
  const abs = Float64Array.from(both.map((f) => Math.abs(f.tA! - f.tB!))).sort();
  const signed = Float64Array.from(both.map((f) => f.tB! - f.tA!)).sort();
  return {
    frames,
    seenA: perFrame.filter((f) => f.tA !== null).length,
    seenB: perFrame.filter((f) => f.tB !== null).length,
    paired: both.length,
    medianMs: round(percentile(abs, 50)),
    p95Ms: round(percentile(abs, 95)),
    maxMs: round(abs.length ? abs[abs.length - 1]! : NaN),
    medianSignedMs: round(percentile(signed, 50)),
    outOfOrder: outOfOrder(a) + outOfOrder(b),
    perFrame,
  };
}
