/**
 * Where a canvas's frame slots fall, recovered from what displays received. The server's pacer
 * puts slot k of a canvas at origin + k·period (server/stream/pacer.ts) on the epoch clock
 * `performance.timeOrigin + performance.now()`, but no frame header carries its slot time
 * (`presentAt` is optional and not sent yet). On loopback the load clients share that clock,
 * so the grid's phase can be read off the arrivals: the first display to get a frame gets it
 * a fraction of a millisecond to a few ms after its slot, so the first arrivals of many frames
 * sit just after grid points, and the phase is where that cluster begins.
 */

export interface SlotPhase {
  /** Grid phase, 0 ≤ phase < period: slots fall at phase + k·period (epoch ms). NaN without data. */
  phase: number;
  /**
   * How widely the first arrivals scatter around the period (ms). Small (a few ms) means the
   * phase is well defined; near the period means slots cannot be told apart and latency
   * figures derived from the phase mean nothing.
   */
  spanMs: number;
}

/**
 * Estimates the grid phase from the first arrival of each frame: sorts the arrivals modulo the
 * period, finds the largest empty arc on that circle, and takes its end as the phase. That is
 * the earliest first arrival, wrap-around handled, so every latency measured from it is ≥ 0
 * and the figures understate true latency by the fastest first delivery observed.
 *
 * @example
 * estimateSlotPhase([1000.4, 1250.9, 1500.2], 250) // { phase: 0.2, spanMs: 0.7 } (approximately)
 */
export function estimateSlotPhase(firstArrivals: readonly number[], periodMs: number): SlotPhase {
  if (!(periodMs > 0)) throw new RangeError(`Expected a positive period but received ${periodMs}`);
  const n = firstArrivals.length;
  if (n === 0) return { phase: NaN, spanMs: NaN };
  const residues = firstArrivals.map((t) => ((t % periodMs) + periodMs) % periodMs).sort((a, b) => a - b);
  // The arc from the last residue round to the first, then each gap between neighbours.
  let bestGap = residues[0]! + periodMs - residues[n - 1]!;
  let phase = residues[0]!;
  for (let i = 1; i < n; i++) {
    const gap = residues[i]! - residues[i - 1]!;
    if (gap > bestGap) {
      bestGap = gap;
      phase = residues[i]!;
    }
  }
  return { phase, spanMs: periodMs - bestGap };
}

/** The latest slot time at or before `t` on the grid phase + k·period. */
export function slotAtOrBefore(t: number, phase: number, periodMs: number): number {
  return phase + periodMs * Math.floor((t - phase) / periodMs);
}

/**
 * A counting window aligned to the grid: it starts and ends half a period after a slot, so a
 * frame that arrives within half a period of its slot is never counted in the wrong window.
 * The window starts at or after `from` and ends at or before `to`.
 */
export function alignedWindow(from: number, to: number, phase: number, periodMs: number): { start: number; end: number; slots: number } {
  let start = slotAtOrBefore(from, phase, periodMs) + periodMs / 2;
  if (start < from) start += periodMs;
  const slots = Math.max(0, Math.floor((to - start) / periodMs));
  return { start, end: start + slots * periodMs, slots };
}
