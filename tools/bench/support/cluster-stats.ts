/**
 * Figures of the cluster benchmarks, from what each display recorded (seq, arrival, presentAt):
 * how far apart one frame reached displays on different nodes, the hole a failover leaves in
 * a display's frames, and frames that went backwards. Pure functions, so they are unit-tested.
 */

export interface SeqRecord {
  /** Which node the display is connected to. */
  group: string;
  seqs: ArrayLike<number>;
  /** Arrival, epoch ms. */
  at: ArrayLike<number>;
  /** The header's presentAt, epoch ms; NaN where it had none. */
  presentAt: ArrayLike<number>;
}

export interface SeqSpreads {
  /** Frames (seqs) seen by a display on every group in the window. */
  seqs: number;
  /** Per seq: latest − earliest arrival over all displays, ms. */
  arrivalMs: number[];
  /** Per seq: latest − earliest of each group's median arrival, ms: node against node, without the spread within a node. */
  groupMedianMs: number[];
  /** Per seq: largest − smallest presentAt over all displays, ms (0 when every node shows it at one instant). */
  presentAtMs: number[];
}

const median = (values: number[]): number => {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Spreads per seq, over frames that arrived in [windowStart, windowEnd); only seqs that
 * reached at least one display of every group count, so a frame missed by a node is not taken
 * for a small spread.
 */
export function seqSpreads(records: readonly SeqRecord[], windowStart: number, windowEnd: number): SeqSpreads {
  const groups = new Set(records.map((r) => r.group));
  const bySeq = new Map<number, Map<string, { at: number[]; presentAt: number[] }>>();
  for (const r of records) {
    for (let i = 0; i < r.seqs.length; i++) {
      const at = r.at[i]!;
      if (at < windowStart || at >= windowEnd) continue;
      const seq = r.seqs[i]!;
      const perGroup = bySeq.get(seq) ?? new Map<string, { at: number[]; presentAt: number[] }>();
      bySeq.set(seq, perGroup);
      const g = perGroup.get(r.group) ?? { at: [], presentAt: [] };
      perGroup.set(r.group, g);
      g.at.push(at);
      if (!Number.isNaN(r.presentAt[i]!)) g.presentAt.push(r.presentAt[i]!);
    }
  }
  const out: SeqSpreads = { seqs: 0, arrivalMs: [], groupMedianMs: [], presentAtMs: [] };
  for (const perGroup of bySeq.values()) {
    if (perGroup.size < groups.size) continue;
    out.seqs++;
    const all = [...perGroup.values()];
    const at = all.flatMap((g) => g.at);
    out.arrivalMs.push(Math.max(...at) - Math.min(...at));
    const medians = all.map((g) => median(g.at));
    out.groupMedianMs.push(Math.max(...medians) - Math.min(...medians));
    const presentAt = all.flatMap((g) => g.presentAt);
    if (presentAt.length) out.presentAtMs.push(Math.max(...presentAt) - Math.min(...presentAt));
  }
  return out;
}

/** Frames per second a display received in [start, end). */
export function windowFps(at: ArrayLike<number>, start: number, end: number): number {
  let n = 0;
  for (let i = 0; i < at.length; i++) if (at[i]! >= start && at[i]! < end) n++;
  return n / ((end - start) / 1000);
}

export interface OutageGap {
  /** From the last frame before the hole to the first after it, ms. */
  gapMs: number;
  /** From the kill to the first frame after the hole, ms. */
  killToResumeMs: number;
  /** seq of the frame that ended the hole − seq of the one before it. */
  seqJump: number;
}

/**
 * The hole a kill left in one display's frames: the first interval between consecutive arrivals
 * that ends more than `inFlightMs` after `killAt`. A frame still in flight from the dead owner
 * may land just after the kill, and no new owner can produce that soon (it must wait for the
 * lease), so the frame ending the hole is the new owner's first. Undefined when frames had not
 * resumed within `horizonMs` of the kill, or none came before the kill (the display was not there).
 */
export function outageGap(
  at: ArrayLike<number>,
  seqs: ArrayLike<number>,
  killAt: number,
  horizonMs: number,
  inFlightMs = 500,
): OutageGap | undefined {
  if (!(at.length > 0 && at[0]! <= killAt)) return undefined;
  for (let i = 1; i < at.length; i++) {
    const end = at[i]!;
    if (end <= killAt + inFlightMs) continue;
    if (end > killAt + horizonMs) return undefined;
    return { gapMs: end - at[i - 1]!, killToResumeMs: end - killAt, seqJump: seqs[i]! - seqs[i - 1]! };
  }
  return undefined;
}

/** The longest interval between consecutive arrivals that both lie in [from, to], ms; 0 with fewer than two. */
export function longestInterval(at: ArrayLike<number>, from: number, to: number): number {
  let longest = 0;
  for (let i = 1; i < at.length; i++) if (at[i - 1]! >= from && at[i]! <= to) longest = Math.max(longest, at[i]! - at[i - 1]!);
  return longest;
}

export interface OrderViolations {
  /** Frames whose seq was not above the one before on that display. */
  seqNotRising: number;
  /** Frames whose presentAt was below the one before (frames without presentAt are skipped). */
  presentAtBackwards: number;
}

export function orderViolations(seqs: ArrayLike<number>, presentAt: ArrayLike<number>): OrderViolations {
  const out: OrderViolations = { seqNotRising: 0, presentAtBackwards: 0 };
  let lastPresent = Number.NaN;
  for (let i = 0; i < seqs.length; i++) {
    if (i > 0 && seqs[i]! <= seqs[i - 1]!) out.seqNotRising++;
    const p = presentAt[i]!;
    if (Number.isNaN(p)) continue;
    if (p < lastPresent) out.presentAtBackwards++;
    lastPresent = p;
  }
  return out;
}
