/** The result file and Markdown report of tools/bench/archive-pacing.ts. */
import { archiveCost, ratio, type MetricsReading, type PacingFigures } from './archive-pacing-stats.js';
import { machineLine, type MachineInfo } from './machine.js';
import { round } from './stats.js';

export interface PhaseResult {
  archive: boolean;
  /** Length of the measured window, s. */
  seconds: number;
  /** Server process CPU (user + system, all threads) over the window, s. */
  cpuSeconds: number;
  cpuPercent: number;
  rssMb: number;
  /** The whole box's CPU over the window, % of one core (200 % = both cores). */
  boxBusyPercent: number;
  /** 1-minute load average at the window's start and end. */
  loadAverage: number[];
  /** easel_archive_written_total over the window. */
  archived: number;
  metrics: MetricsReading;
  published: number;
  held: number;
  skippedSends: number;
  pacing: PacingFigures;
  /** Warnings and errors the server logged, start-up and shutdown included, by message. */
  serverLogs: { warn: number; error: number; byMessage: Record<string, number> };
  /** ON only: images and play-log lines in the folder after the server stopped (warm-up included). */
  folder: { images: number; playLines: number } | null;
}

export interface ArchivePacingResult {
  machine: MachineInfo;
  runtime: string;
  canvases: number;
  fps: number;
  latencyMs: number;
  secondsPerPhase: number;
  rounds: number;
  phases: PhaseResult[];
  endLoadAverage: number[];
}

const f = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : '–');
const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
const slotMeanMs = (p: PhaseResult) => (p.metrics.pacingCount ? (1000 * p.metrics.pacingSum) / p.metrics.pacingCount : NaN);
const slotOver10 = (p: PhaseResult) => p.metrics.pacingCount - p.metrics.pacingWithin10ms;

/** The archive's CPU per frame of each round alone: how far the pooled figure can be trusted on a noisy box. */
function rounds(phases: PhaseResult[]): number[] {
  const out: number[] = [];
  for (let i = 0; i + 1 < phases.length; i += 2) out.push(archiveCost([phases[i]!, phases[i + 1]!]).cpuMsPerArchivedFrame);
  return out;
}

/** Each figure averaged over the phases of one kind, for the ON/OFF table. */
function kindFigures(phases: PhaseResult[]) {
  const of = (pick: (p: PhaseResult) => number) => mean(phases.map(pick));
  return {
    latenessP50: of((p) => p.pacing.latenessMs.p50),
    latenessP95: of((p) => p.pacing.latenessMs.p95),
    latenessMax: of((p) => p.pacing.latenessMs.max),
    intervalP50: of((p) => p.pacing.intervalDeviationMs.p50),
    intervalP95: of((p) => p.pacing.intervalDeviationMs.p95),
    intervalMax: of((p) => p.pacing.intervalDeviationMs.max),
    slotMean: of(slotMeanMs),
    slotOver10PerMin: of((p) => (60 * slotOver10(p)) / p.seconds),
    heldPerMin: of((p) => (60 * p.held) / p.seconds),
    skippedPerMin: of((p) => (60 * p.skippedSends) / p.seconds),
    longGapsPerMin: of((p) => (60 * p.pacing.longGaps) / p.seconds),
    afterPresentAtPerMin: of((p) => (60 * p.pacing.afterPresentAt) / p.seconds),
    publishedPerSecond: of((p) => p.published / p.seconds),
    boxBusy: of((p) => p.boxBusyPercent),
  };
}

export function archivePacingMarkdown(r: ArchivePacingResult): string {
  const cost = archiveCost(r.phases);
  const off = kindFigures(r.phases.filter((p) => !p.archive));
  const on = kindFigures(r.phases.filter((p) => p.archive));
  const archivedPerSecond = mean(r.phases.filter((p) => p.archive).map((p) => p.archived / p.seconds));
  const row = (name: string, key: keyof typeof off, digits = 1) =>
    `| ${name} | ${f(off[key], digits)} | ${f(on[key], digits)} | ${f(ratio(on[key], off[key]), 2)} |`;
  const phaseRow = (p: PhaseResult, i: number) =>
    `| ${i + 1} | ${p.archive ? 'ON' : 'off'} | ${f(p.seconds, 0)} | ${p.published} | ${p.archived} | ${p.metrics.archiveDropped ?? '–'} | ` +
    `${p.metrics.playLines ?? '–'} | ${f(p.cpuPercent)} | ${f((1000 * p.cpuSeconds) / p.published, 2)} | ${p.rssMb} | ${p.held} | ${p.skippedSends} | ` +
    `${p.boxBusyPercent} | ${p.loadAverage.join(' → ')} |`;
  const pacingRow = (p: PhaseResult, i: number) => {
    const l = p.pacing.latenessMs;
    const d = p.pacing.intervalDeviationMs;
    return (
      `| ${i + 1} | ${p.archive ? 'ON' : 'off'} | ${p.pacing.frames} | ${f(l.p50)} | ${f(l.p95)} | ${f(l.max)} | ${f(d.p50)} | ${f(d.p95)} | ${f(d.max)} | ` +
      `${p.pacing.longGaps} | ${p.pacing.afterPresentAt} | ${f(slotMeanMs(p), 2)} | ${slotOver10(p)} |`
    );
  };
  return [
    '# Archive cost at 4 FPS: CPU per archived frame and its effect on pacing',
    '',
    `Machine: ${machineLine(r.machine)}; load average ${r.machine.loadAverage.join(' / ')} at the start, ` +
      `${r.endLoadAverage.join(' / ')} at the end (shared with other work: a busy box).`,
    `Date: ${r.machine.date}. Server: ${r.runtime}, its own process.`,
    '',
    `Setup: ${r.canvases} canvases generating from the dev inference service (its own process, ${r.latencyMs} ms per image, ` +
      `512x512 PNG) at ${r.fps} FPS, one WebSocket display per canvas on loopback. Phases of ${r.secondsPerPhase} s, ` +
      `archive OFF (\`EASEL_ARCHIVE_DIR=""\`) then ON (a temporary folder), ${r.rounds} round(s), each on a fresh server ` +
      'after a warm-up (every canvas 12 frames published, then 2 s). ON includes the proof-of-play log ' +
      '(one line per frame shown): the archive switch turns both on, so its cost is in every ON figure.',
    '',
    '## ON against OFF',
    '',
    `- Server CPU: ${f(cost.offCpuPercent)}% of a core OFF, ${f(cost.onCpuPercent)}% ON; ` +
      `**${f(cost.cpuMsPerArchivedFrame, 2)} ms of CPU per archived frame** (ON minus OFF CPU per second over ` +
      `${f(archivedPerSecond)} frames archived per second). Server CPU per published frame ON/OFF: ${f(cost.cpuPerPublishedRatio, 3)}. ` +
      `Round by round (each OFF phase with the ON phase after it): ${rounds(r.phases)
        .map((c) => `${f(c, 2)} ms`)
        .join(', ')}.`,
    "- Pacing figures are averages of the phases of each kind; lateness is a frame's arrival at its display minus its slot " +
      '(`presentAt` − the canvas lead), interval deviation |time between two arrivals − 250 ms|, the slot timer the ' +
      "server's own `easel_pacing_deviation_seconds`.",
    '',
    '| | OFF | ON | ON/OFF |',
    '|---|--:|--:|--:|',
    row('frames published per s', 'publishedPerSecond'),
    row('lateness p50, ms', 'latenessP50'),
    row('lateness p95, ms', 'latenessP95'),
    row('lateness max, ms', 'latenessMax'),
    row('interval deviation p50, ms', 'intervalP50'),
    row('interval deviation p95, ms', 'intervalP95'),
    row('interval deviation max, ms', 'intervalMax'),
    row('slot timer late, mean ms', 'slotMean', 2),
    row('slots fired > 10 ms late, per min', 'slotOver10PerMin'),
    row('slots held (no new frame), per min', 'heldPerMin'),
    row('sends skipped, per min', 'skippedPerMin'),
    row('gaps > 375 ms at a display, per min', 'longGapsPerMin'),
    row('frames after their presentAt, per min', 'afterPresentAtPerMin'),
    row('whole box busy, % of a core', 'boxBusy', 0),
    '',
    '## Phases',
    '',
    'Archived, dropped and play lines are the metrics over the window; CPU is the server process from /proc ' +
      '(all threads: libvips, libuv, GC); box busy is /proc/stat over the window; load is the 1-minute average at its start and end.',
    '',
    '| # | archive | s | published | archived | dropped | play lines | server CPU % of a core | CPU ms per published frame | RSS MB | held | skipped | box busy % | load |',
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|---|',
    ...r.phases.map(phaseRow),
    '',
    '| # | archive | frames seen | lateness p50 | p95 | max | interval dev. p50 | p95 | max | gaps > 375 ms | after presentAt | slot timer mean ms | slots > 10 ms late |',
    '|--:|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...r.phases.map(pacingRow),
    '',
    ...r.phases
      .map((p, i) =>
        p.folder
          ? `- Phase ${i + 1}: the folder held ${p.folder.images} images and ${p.folder.playLines} play-log lines after the server stopped (warm-up included).`
          : '',
      )
      .filter(Boolean),
    `- Server warnings/errors logged (start-up and shutdown included): ${r.phases.map((p, i) => `phase ${i + 1} ${p.serverLogs.warn}/${p.serverLogs.error}`).join(', ')}.`,
    ...r.phases.flatMap((p, i) => Object.entries(p.serverLogs.byMessage).map(([msg, n]) => `  - phase ${i + 1}, ${n}×: ${msg}`)),
    '',
  ].join('\n');
}

/** For the JSON beside the report: the comparison as numbers. */
export function archivePacingSummary(r: ArchivePacingResult) {
  const off = kindFigures(r.phases.filter((p) => !p.archive));
  const on = kindFigures(r.phases.filter((p) => p.archive));
  const ratios = Object.fromEntries(Object.keys(off).map((k) => [k, ratio(on[k as keyof typeof on], off[k as keyof typeof off])]));
  const rounded = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, round(v, 2)]));
  return { cost: archiveCost(r.phases), off: rounded(off), on: rounded(on), ratios };
}
