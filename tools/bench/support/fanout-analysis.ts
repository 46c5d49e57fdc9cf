/**
 * Turns the raw arrivals of a fan-out step into the figures the benchmark reports. Pure: the
 * records and the window in, numbers out.
 *
 * What each figure means (every display counts, whichever load-client process it lived in):
 * - fps: frames a display received in its canvas's counting window, divided by the window.
 *   The window is aligned to the canvas's slot grid (it starts and ends mid-slot), so a display
 *   that got every frame shows exactly the canvas's rate, not ±1 frame of edge noise.
 * - interval: time between consecutive frames at one display; deviation = |interval − period|.
 * - latency (slot-to-arrival): arrival − the slot the frame was published in. The slot grid is
 *   recovered from first arrivals (slot-grid.ts) because no header carries the slot time; the
 *   clocks are shared on loopback. It includes pacer timer lateness, the fan-out loop, the
 *   kernel, and the load client's own event-loop delay; it understates true latency by the
 *   fastest first delivery seen (well under a millisecond to ~1 ms on loopback).
 * - spread: arrival − the first arrival of the same frame at any display of the canvas: how
 *   long the fan-out of one frame takes, free of any clock or grid assumption.
 * - present margin: the header's presentAt − arrival, when headers carry one (present-margin.ts).
 */
import type { DisplayRecord } from './fanout-protocol.js';
import { alignedWindow, estimateSlotPhase, slotAtOrBefore } from './slot-grid.js';
import { presentMargin, type PresentMargin } from './present-margin.js';
import { summarize, type Summary } from './stats.js';

export interface StepAnalysisOptions {
  periodMs: number;
  /** Epoch ms: the measuring window. */
  windowStart: number;
  windowEnd: number;
  /** A display "holds" the rate at or above this fps. */
  holdFps: number;
}

export interface CanvasGrid {
  canvas: number;
  phase: number;
  spanMs: number;
  /** Frames the canvas published in its window, per second (what the source and pacer kept up). */
  publishedFps: number;
  slots: number;
}

export interface StepAnalysis {
  /** Displays in the step, opened or not. */
  displays: number;
  fps: Summary;
  /** Share of all displays (a display that never opened counts as 0 fps) at ≥ holdFps. */
  heldFraction: number;
  /** Share at ≥ 3.95 fps. */
  at395Fraction: number;
  intervalMs: Summary;
  deviationMs: Summary;
  latencyMs: Summary;
  spreadMs: Summary;
  /** How early frames came before their presentAt; absent when no header carried one. */
  presentMargin: PresentMargin | undefined;
  /** Mean whole message size (4-byte length + JSON header + image), bytes. */
  bytesPerFrame: number;
  /** Frames received by all displays in [windowStart, windowEnd). */
  framesInWindow: number;
  grids: CanvasGrid[];
}

export function analyseStep(records: readonly DisplayRecord[], options: StepAnalysisOptions): StepAnalysis {
  const { periodMs, windowStart, windowEnd, holdFps } = options;
  const byCanvas = new Map<number, DisplayRecord[]>();
  for (const r of records) {
    const list = byCanvas.get(r.canvas) ?? [];
    list.push(r);
    byCanvas.set(r.canvas, list);
  }

  const fps: number[] = [];
  const intervals: number[] = [];
  const deviations: number[] = [];
  const latencies: number[] = [];
  const spreads: number[] = [];
  const grids: CanvasGrid[] = [];
  let bytes = 0;
  let frames = 0;
  let framesInWindow = 0;

  for (const [canvas, list] of byCanvas) {
    const earliest = new Map<number, number>();
    for (const r of list) {
      for (let i = 0; i < r.seqs.length; i++) {
        const seq = r.seqs[i]!;
        const at = r.at[i]!;
        const prev = earliest.get(seq);
        if (prev === undefined || at < prev) earliest.set(seq, at);
      }
    }
    const firsts = [...earliest.values()].filter((t) => t >= windowStart && t < windowEnd);
    const { phase, spanMs } = estimateSlotPhase(firsts, periodMs);
    const w = Number.isNaN(phase)
      ? { start: windowStart, end: windowEnd, slots: Math.floor((windowEnd - windowStart) / periodMs) }
      : alignedWindow(windowStart, windowEnd, phase, periodMs);
    const seconds = (w.slots * periodMs) / 1000;
    const published = [...earliest.values()].filter((t) => t >= w.start && t < w.end).length;
    grids.push({ canvas, phase, spanMs, publishedFps: seconds > 0 ? published / seconds : NaN, slots: w.slots });

    for (const r of list) {
      let count = 0;
      let prev: number | undefined;
      for (let i = 0; i < r.at.length; i++) {
        const at = r.at[i]!;
        if (at >= windowStart && at < windowEnd) framesInWindow++;
        if (at < w.start || at >= w.end) continue;
        count++;
        bytes += r.bytes[i]!;
        frames++;
        if (prev !== undefined) {
          intervals.push(at - prev);
          deviations.push(Math.abs(at - prev - periodMs));
        }
        prev = at;
        const first = earliest.get(r.seqs[i]!)!;
        spreads.push(at - first);
        if (!Number.isNaN(phase)) latencies.push(at - slotAtOrBefore(first, phase, periodMs));
      }
      fps.push(seconds > 0 ? count / seconds : 0);
    }
  }

  const held = fps.filter((f) => f >= holdFps).length;
  const at395 = fps.filter((f) => f >= 3.95).length;
  return {
    displays: records.length,
    fps: summarize(fps),
    heldFraction: records.length ? held / records.length : 0,
    at395Fraction: records.length ? at395 / records.length : 0,
    intervalMs: summarize(intervals),
    deviationMs: summarize(deviations),
    latencyMs: summarize(latencies),
    spreadMs: summarize(spreads),
    presentMargin: presentMargin(records, windowStart, windowEnd),
    bytesPerFrame: frames ? bytes / frames : NaN,
    framesInWindow,
    grids: grids.sort((a, b) => a.canvas - b.canvas),
  };
}
