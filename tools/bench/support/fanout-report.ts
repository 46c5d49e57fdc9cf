/**
 * How fan-out step results are written: one log line per step, JSON with rounded summaries,
 * and the Markdown table of fanout-steps.md. Pure: results in, text out.
 */
import type { FanoutStepsResult, StepResult } from '../fanout-steps.js';
import { machineLine } from './machine.js';
import { round, roundSummary } from './stats.js';

export function counterCell(s: StepResult): string {
  const k = s.serverCounters;
  return k ? `${k.held} / ${k.slotsNotFired} / ${k.skippedSends}` : '–';
}

/** Marks latency figures whose slot grid is uncertain: first arrivals scattered over half a period or more. */
export function gridNote(s: StepResult): string {
  const spans = s.analysis?.grids.map((g) => g.spanMs) ?? [];
  const worst = Math.max(...spans);
  return spans.length && !(worst < 125) ? ` (grid uncertain: first arrivals spread ${worst.toFixed(0)} ms)` : '';
}

/** "p1 / p50" of how early frames came before their presentAt, or – when no header carried one. */
export function marginCell(s: StepResult, f = (v: number) => v.toFixed(1)): string {
  const m = s.analysis?.presentMargin;
  return m
    ? `${f(m.marginMs.p1)} / ${f(m.marginMs.p50)}${m.lateFraction > 0 ? ` (${(100 * m.lateFraction).toFixed(1)} % late)` : ''}`
    : '–';
}

export function stepLine(s: StepResult): string {
  if (s.skipped) return `skipped: ${s.skipped}`;
  const a = s.analysis!;
  return (
    `${s.held ? 'held' : 'NOT held'}: ${(100 * a.heldFraction).toFixed(1)} % ≥ 3.8 FPS, median ${a.fps.p50.toFixed(2)} FPS, ` +
    `interval deviation p99 ${a.deviationMs.p99.toFixed(1)} ms, latency p50/p99 ${a.latencyMs.p50.toFixed(1)}/${a.latencyMs.p99.toFixed(1)} ms, ` +
    `spread p50/p95/max ${a.spreadMs.p50.toFixed(1)}/${a.spreadMs.p95.toFixed(1)}/${a.spreadMs.max.toFixed(1)} ms, presentAt margin p1/p50 ${marginCell(s)} ms, ` +
    `server CPU ${s.server!.cpuSecondsPer1000Frames.toFixed(3)} s/1000 frames, ` +
    `server CPU ${s.server!.cpuPercentOfOneCore} %, clients ${s.clients!.cpuPercentOfOneCore} %, other ${s.box!.otherPercentOfOneCore} % (irq ${s.box!.irqPercentOfOneCore}, steal ${s.box!.stealPercentOfOneCore}), ` +
    `peak RSS ${s.server!.rssMbPeak} MB; server held ${s.serverCounters?.held ?? '?'} slots, skipped ${s.serverCounters?.skippedSends ?? '?'} sends`
  );
}

/** The results as JSON-ready data: summaries rounded, per-canvas grids kept for diagnosis. */
export function toJson(r: FanoutStepsResult): unknown {
  return {
    ...r,
    steps: r.steps.map((s) =>
      s.analysis
        ? {
            ...s,
            analysis: {
              ...s.analysis,
              fps: roundSummary(s.analysis.fps, 3),
              heldFraction: round(s.analysis.heldFraction, 4),
              at395Fraction: round(s.analysis.at395Fraction, 4),
              intervalMs: roundSummary(s.analysis.intervalMs, 2),
              deviationMs: roundSummary(s.analysis.deviationMs, 2),
              latencyMs: roundSummary(s.analysis.latencyMs, 2),
              spreadMs: roundSummary(s.analysis.spreadMs, 2),
              presentMargin: s.analysis.presentMargin && {
                ...s.analysis.presentMargin,
                marginMs: roundSummary(s.analysis.presentMargin.marginMs, 2),
                lateFraction: round(s.analysis.presentMargin.lateFraction, 4),
              },
              bytesPerFrame: Math.round(s.analysis.bytesPerFrame),
              grids: s.analysis.grids.map((g) => ({
                ...g,
                phase: round(g.phase, 2),
                spanMs: round(g.spanMs, 2),
                publishedFps: round(g.publishedFps, 3),
              })),
            },
          }
        : s,
    ),
  };
}

export function toMarkdown(r: FanoutStepsResult): string {
  const f = (v: number | undefined, d = 1) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(d));
  const rows = r.steps.map((s) => {
    if (s.skipped) return `| ${s.displays} | ${s.canvases} | skipped: ${s.skipped} ||||||||||||||`;
    const a = s.analysis!;
    const grid = gridNote(s);
    return (
      `| ${s.displays}${s.noisyAttempts ? ` (attempt ${s.noisyAttempts.length + 1})` : ''} | ${s.canvases} | ${s.opened} | ${s.held ? 'yes' : '**no**'} | ${f(100 * a.heldFraction)} | ${f(a.fps.p50, 2)} | ${f(a.fps.p1, 2)} | ` +
      `${f(a.deviationMs.p50)} / ${f(a.deviationMs.p99)} | ${f(a.latencyMs.p50)} / ${f(a.latencyMs.p99)}${grid} | ${f(a.spreadMs.p50)} / ${f(a.spreadMs.p95)} / ${f(a.spreadMs.max)} | ${marginCell(s)} | ${f(a.bytesPerFrame / 1024)} | ` +
      `${f(s.server!.cpuSecondsPer1000Frames, 3)} | ${f(s.server!.cpuPercentOfOneCore, 0)} | ${f(s.clients!.cpuPercentOfOneCore, 0)} | ${f(s.box!.otherPercentOfOneCore, 0)} | ${counterCell(s)} | ${f(s.server!.rssMbPeak, 0)} / ${f(s.server!.rssMbWindowPeak, 0)} |`
    );
  });
  const limit =
    r.largestHeld === null
      ? 'no step held'
      : `${r.limitAbove ? '≥ ' : ''}${r.largestHeld} displays${r.limitAbove ? ' (the largest step run held; the limit lies above)' : ''}`;
  return [
    '# Fan-out steps',
    '',
    `Machine: ${machineLine(r.machine)}; load average at start ${r.machine.loadAverage.join(' ')}`,
    `Date: ${r.machine.date}`,
    '',
    `Server: ${r.serverRuntime}. ${r.options.canvases} canvases looping the bundled images, displays spread round-robin over them and over ${r.options.workers} load-client processes; ` +
      `${r.options.warmupSeconds} s warm-up, ${r.options.windowSeconds} s window per step; a fresh server process each step. Loopback.`,
    '',
    `**Largest N held (≥ ${100 * r.options.holdFraction} % of displays at ≥ ${r.options.holdFps} FPS): ${limit}.**`,
    '',
    '| N | canvases | open | held | % ≥ 3.8 | FPS median | FPS p1 | interval dev p50 / p99 ms | latency p50 / p99 ms | spread p50 / p95 / max ms | presentAt margin p1 / p50 ms | KiB/frame | server CPU s / 1000 frames | server CPU % | clients CPU % | other CPU % | server: slots held / not fired / sends skipped | server RSS MB: peak / in window |',
    '|--:|--:|--:|:-:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows,
    '',
    `CPU % is of one core (the box has ${r.steps.find((s) => s.box)?.box?.cores ?? '?'}); "other" is what the rest of the box used meanwhile (other`,
    "engineers' tests on a shared machine): figures taken while it is high are noisy.",
    "Latency = arrival − the frame's slot, with the slot grid recovered from first arrivals (no header carries the slot time);",
    'spread = arrival − the first arrival of the same frame at any display. See tools/bench/support/fanout-analysis.ts.',
    "presentAt margin = the header's presentAt − arrival (positive: early), where headers carry presentAt (protocol v2, a synced canvas); – otherwise.",
    '"Slots held": the pacer fired but no frame was ready; "not fired": the pacer woke over a period late and skipped',
    'slots (a starved event loop); "sends skipped": a display had not taken the previous frame (server counters, /api/canvases).',
    'Peak RSS is VmHWM of a fresh server (start-up encodes of 8 canvases included); "in window" is the highest RSS sampled while measuring.',
    '',
  ].join('\n');
}
