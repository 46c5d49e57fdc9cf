/**
 * Pure arithmetic of the archive pacing benchmark (tools/bench/archive-pacing.ts): what a
 * display saw of each frame against its slot, Prometheus text summed over labels, and the
 * archive's CPU cost per frame as ON minus OFF. Kept apart from the script so it can be tested.
 */
import { round, roundSummary, summarize, type Summary } from './stats.js';

/** What one display recorded of one frame. */
export interface Arrival {
  /** Epoch ms the message arrived (the server's clock on loopback). */
  at: number;
  /** Epoch ms of the frame's slot: its presentAt minus the canvas's lead, or its timestamp without sync. */
  slot: number;
  /** The header's presentAt; NaN when the canvas does not sync. */
  presentAt: number;
  seq: number;
}

export interface PacingFigures {
  frames: number;
  /** Arrival minus slot, ms: timer lateness, send and the client's event loop together. */
  latenessMs: Summary;
  /** |interval between consecutive arrivals on a display − the period|, ms. */
  intervalDeviationMs: Summary;
  /** Intervals longer than 1.5 periods: a slot with no new frame, or one that came very late. */
  longGaps: number;
  /** Frames that arrived after their presentAt (a screen would have shown them late). */
  afterPresentAt: number;
}

/** Pacing as the displays saw it, each display's frames in arrival order. */
export function pacingFigures(displays: ReadonlyArray<readonly Arrival[]>, periodMs: number): PacingFigures {
  const lateness: number[] = [];
  const deviation: number[] = [];
  let longGaps = 0;
  let afterPresentAt = 0;
  for (const frames of displays) {
    for (let i = 0; i < frames.length; i++) {
      const f = frames[i]!;
      lateness.push(f.at - f.slot);
      if (f.at > f.presentAt) afterPresentAt++;
      if (i === 0) continue;
      const interval = f.at - frames[i - 1]!.at;
      deviation.push(Math.abs(interval - periodMs));
      if (interval > 1.5 * periodMs) longGaps++;
    }
  }
  return {
    frames: lateness.length,
    latenessMs: roundSummary(summarize(lateness), 2),
    intervalDeviationMs: roundSummary(summarize(deviation), 2),
    longGaps,
    afterPresentAt,
  };
}

/** Parses `a="x",b="y"` (Prometheus label text, no escapes in our labels) into a record. */
function labelsOf(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const m of text.matchAll(/(\w+)="([^"]*)"/g)) labels[m[1]!] = m[2]!;
  return labels;
}

/**
 * Sum of every sample named exactly `name` whose labels pass `match` (all of them without it);
 * null when there is no such sample (a metric that exists only while the archive is on).
 */
export function sumMetric(text: string, name: string, match?: (labels: Record<string, string>) => boolean): number | null {
  let sum: number | null = null;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name) || line.startsWith('#')) continue;
    const rest = line.slice(name.length);
    let labels: Record<string, string> = {};
    let valueText: string;
    if (rest.startsWith('{')) {
      const close = rest.indexOf('}');
      if (close < 0) continue;
      labels = labelsOf(rest.slice(1, close));
      valueText = rest.slice(close + 1);
    } else if (rest.startsWith(' ')) {
      valueText = rest;
    } else continue; // a longer name that starts with this one
    const value = Number(valueText.trim().split(' ')[0]);
    if (!Number.isFinite(value) || (match && !match(labels))) continue;
    sum = (sum ?? 0) + value;
  }
  return sum;
}

/** The counters and histogram figures a phase reads from /metrics at its start and end. */
export interface MetricsReading {
  archiveWritten: number | null;
  archiveDropped: number | null;
  archiveFailed: number | null;
  playLines: number | null;
  playLinesDropped: number | null;
  /** easel_pacing_deviation_seconds over all canvases: sum (s), count, and count within 10 ms / 50 ms. */
  pacingSum: number;
  pacingCount: number;
  pacingWithin10ms: number;
  pacingWithin50ms: number;
}

export function readMetrics(text: string): MetricsReading {
  const bucket = (le: string) => sumMetric(text, 'easel_pacing_deviation_seconds_bucket', (l) => l.le === le) ?? 0;
  return {
    archiveWritten: sumMetric(text, 'easel_archive_written_total'),
    archiveDropped: sumMetric(text, 'easel_archive_dropped_total'),
    archiveFailed: sumMetric(text, 'easel_archive_failed_total'),
    playLines: sumMetric(text, 'easel_archive_play_lines_total'),
    playLinesDropped: sumMetric(text, 'easel_archive_play_lines_dropped_total'),
    pacingSum: sumMetric(text, 'easel_pacing_deviation_seconds_sum') ?? 0,
    pacingCount: sumMetric(text, 'easel_pacing_deviation_seconds_count') ?? 0,
    pacingWithin10ms: bucket('0.01'),
    pacingWithin50ms: bucket('0.05'),
  };
}

/** end − start for every field; null where either side lacks it. */
export function metricsDelta(start: MetricsReading, end: MetricsReading): MetricsReading {
  const out = {} as Record<keyof MetricsReading, number | null>;
  for (const key of Object.keys(end) as Array<keyof MetricsReading>) {
    const a = start[key];
    const b = end[key];
    out[key] = a === null || b === null ? null : b - a;
  }
  return out as MetricsReading;
}

/** The figures of one phase that the comparison needs. */
export interface PhaseCost {
  archive: boolean;
  seconds: number;
  /** Server process CPU (user + system) over the window, seconds. */
  cpuSeconds: number;
  /** Frames archived over the window (0 with the archive off). */
  archived: number;
  published: number;
}

export interface ArchiveCost {
  /** Server CPU per second of the window, as % of one core, phases of each kind averaged. */
  offCpuPercent: number;
  onCpuPercent: number;
  /** (ON − OFF) CPU per second over archived frames per second: the archive's CPU per frame, ms. */
  cpuMsPerArchivedFrame: number;
  /** ON / OFF of the server's CPU per published frame. */
  cpuPerPublishedRatio: number;
}

/**
 * The archive's cost from alternated phases: each kind's CPU rate and frame rate pooled over its
 * phases (total over total, so a longer phase weighs more), then ON minus OFF.
 */
export function archiveCost(phases: readonly PhaseCost[]): ArchiveCost {
  const pool = (archive: boolean) => {
    const ps = phases.filter((p) => p.archive === archive);
    const seconds = ps.reduce((s, p) => s + p.seconds, 0);
    const cpu = ps.reduce((s, p) => s + p.cpuSeconds, 0);
    return {
      cpuPerSecond: cpu / seconds,
      archivedPerSecond: ps.reduce((s, p) => s + p.archived, 0) / seconds,
      cpuPerPublished: cpu / ps.reduce((s, p) => s + p.published, 0),
    };
  };
  const off = pool(false);
  const on = pool(true);
  return {
    offCpuPercent: round(off.cpuPerSecond * 100, 1),
    onCpuPercent: round(on.cpuPerSecond * 100, 1),
    cpuMsPerArchivedFrame: round(((on.cpuPerSecond - off.cpuPerSecond) / on.archivedPerSecond) * 1000, 2),
    cpuPerPublishedRatio: round(on.cpuPerPublished / off.cpuPerPublished, 3),
  };
}

/** ON / OFF of a figure, rounded; NaN when OFF is 0 (no ratio to give). */
export function ratio(on: number, off: number): number {
  return off === 0 ? NaN : round(on / off, 2);
}
