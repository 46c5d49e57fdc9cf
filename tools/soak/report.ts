/**
 * The soak's verdict: RSS over time as a table and a small ASCII chart, whether it is flat
 * after warm-up (least-squares slope over the second half, MB per minute), and the error and
 * gap counts. Pure: samples and counters in, JSON-ready data and Markdown out.
 */
import { linearFit, percentile, round } from '../bench/support/stats.js';
import type { SwarmStats } from './display-swarm.js';
import type { MemoryFigures } from './memory.js';

export interface RssSample extends MemoryFigures {
  /** Seconds since the soak started. */
  t: number;
  rssMb: number;
  /** Server CPU over the last interval, % of one core. */
  cpuPercent: number;
  /** Displays open, as the soak's clients count them and as the server's API reports them. */
  displays: number;
  serverDisplays: number | null;
  /** Frames all displays received per second over the last interval. */
  framesPerSecond: number;
}

export interface RssVerdict {
  /** First sample of the second half, seconds: warm-up is everything before. */
  fromSeconds: number;
  slopeMbPerMinute: number;
  /** The fitted growth over the second half, MB. */
  growthMb: number;
  thresholdMbPerMinute: number;
  flat: boolean;
  min: number;
  max: number;
  /** Mean of the second half. */
  meanAfterWarmup: number;
}

export function rssVerdict(samples: readonly RssSample[], thresholdMbPerMinute: number): RssVerdict {
  const half = samples.slice(Math.floor(samples.length / 2));
  const { slope } = linearFit(
    half.map((s) => s.t / 60),
    half.map((s) => s.rssMb),
  );
  const span = half.length > 1 ? (half.at(-1)!.t - half[0]!.t) / 60 : 0;
  const rss = samples.map((s) => s.rssMb);
  return {
    fromSeconds: half[0]?.t ?? 0,
    slopeMbPerMinute: round(slope, 3),
    growthMb: round(slope * span, 1),
    thresholdMbPerMinute,
    flat: Number.isFinite(slope) && Math.abs(slope) <= thresholdMbPerMinute,
    min: round(Math.min(...rss)),
    max: round(Math.max(...rss)),
    meanAfterWarmup: round(half.reduce((s, x) => s + x.rssMb, 0) / Math.max(1, half.length)),
  };
}

/** Second-half slopes of each part of memory, MB per minute (null where the part was not reported). */
export type MemorySlopes = Record<
  'rss' | 'cache' | 'heapUsed' | 'heapTotal' | 'external' | 'arrayBuffers' | 'native' | 'live',
  number | null
>;

export interface MemoryVerdict {
  slopes: MemorySlopes;
  /**
   * Growth the rendition cache and V8's spare heap do not explain, MB/min: the slope of
   * RSS − cache − (heap total − heap used), or of RSS − cache when the server gave no figures.
   */
  unexplainedMbPerMinute: number;
  thresholdMbPerMinute: number;
  /** The cache's budget (render.cacheMegabytes) and the most it held. */
  cacheBudgetMb: number | null;
  cacheMaxMb: number | null;
  /** Whether the cache held at least 90 % of its budget from the start of the second half: from then on it explains no growth. */
  cacheFullBySecondHalf: boolean;
  /** Parts besides the cache that grew faster than the threshold over the second half. */
  growing: string[];
  ok: boolean;
  /** One plain line: why the soak fails on memory, or what the growth was. */
  reason: string;
}

/**
 * Theil–Sen slope (the median of every pairwise slope), MB per minute: one sample caught
 * mid-burst (external memory doubles while 50 frames are in flight) does not tilt it.
 */
export function robustSlope(points: ReadonlyArray<readonly [minutes: number, mb: number]>): number | null {
  const slopes: number[] = [];
  for (let i = 0; i < points.length; i++)
    for (let j = i + 1; j < points.length; j++)
      if (points[j]![0] !== points[i]![0]) slopes.push((points[j]![1] - points[i]![1]) / (points[j]![0] - points[i]![0]));
  if (slopes.length === 0) return null;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length / 2;
  const median = slopes.length % 2 ? slopes[Math.floor(mid)]! : (slopes[mid - 1]! + slopes[mid]!) / 2;
  return round(median, 3);
}

function slopeOf(half: readonly RssSample[], value: (s: RssSample) => number | null): number | null {
  return robustSlope(
    half.flatMap((s) => {
      const v = value(s);
      return v === null ? [] : [[s.t / 60, v] as const];
    }),
  );
}

/** What the process holds that is neither the cache nor heap V8 reserved but does not use. */
const liveMb = (s: RssSample) =>
  s.heapTotalMb === null || s.heapUsedMb === null ? null : s.rssMb - (s.cacheMb ?? 0) - (s.heapTotalMb - s.heapUsedMb);

/**
 * Whether memory growth over the second half stays within what the rendition cache explains.
 * The cache may grow up to its budget — that is memory bought on purpose — so its slope is
 * taken off RSS's; what remains must be under the threshold. Once the cache is full, heap,
 * external and native must not keep growing either.
 */
export function memoryVerdict(samples: readonly RssSample[], thresholdMbPerMinute: number, cacheBudgetMb: number | null): MemoryVerdict {
  const half = samples.slice(Math.floor(samples.length / 2));
  const slopes: MemorySlopes = {
    rss: slopeOf(half, (s) => s.rssMb),
    cache: slopeOf(half, (s) => s.cacheMb),
    heapUsed: slopeOf(half, (s) => s.heapUsedMb),
    heapTotal: slopeOf(half, (s) => s.heapTotalMb),
    external: slopeOf(half, (s) => s.externalMb),
    arrayBuffers: slopeOf(half, (s) => s.arrayBuffersMb),
    native: slopeOf(half, (s) => s.nativeMb),
    live: slopeOf(half, liveMb),
  };
  const cacheValues = samples.map((s) => s.cacheMb).filter((x): x is number => x !== null);
  const cacheMaxMb = cacheValues.length ? Math.max(...cacheValues) : null;
  const cacheFullBySecondHalf =
    cacheBudgetMb !== null &&
    cacheBudgetMb > 0 &&
    half.length > 0 &&
    half.every((s) => s.cacheMb !== null && s.cacheMb >= 0.9 * cacheBudgetMb);
  const cacheExplains = cacheFullBySecondHalf ? 0 : Math.max(0, slopes.cache ?? 0);
  // V8 sizes its heap to the allocation rate, which follows the number of displays: spare heap
  // comes and goes with load. A leak shows in what is used (heap used, external, native).
  const unexplained = round(slopes.live ?? (slopes.rss ?? NaN) - cacheExplains, 3);
  const growing = (['heapUsed', 'external', 'native'] as const).filter(
    (k) => (slopes[k] ?? 0) - (k === 'external' ? cacheExplains : 0) > thresholdMbPerMinute,
  );
  const reasons: string[] = [];
  if (!Number.isFinite(unexplained)) reasons.push('too few samples to tell');
  else if (unexplained > thresholdMbPerMinute)
    reasons.push(
      `RSS grew ${slopes.rss} MB/min over the second half, ${unexplained} MB/min of it not the rendition cache nor spare JS heap (threshold ${thresholdMbPerMinute})`,
    );
  if (cacheFullBySecondHalf && growing.length > 0)
    reasons.push(`with the cache full, ${growing.map((k) => `${k} grew ${slopes[k]} MB/min`).join(', ')}`);
  if (cacheBudgetMb !== null && cacheMaxMb !== null && cacheMaxMb > cacheBudgetMb * 1.05 + 1)
    reasons.push(`the rendition cache held ${cacheMaxMb} MB, over its budget of ${cacheBudgetMb} MB`);
  const ok = reasons.length === 0;
  return {
    slopes,
    unexplainedMbPerMinute: unexplained,
    thresholdMbPerMinute,
    cacheBudgetMb,
    cacheMaxMb,
    cacheFullBySecondHalf,
    growing,
    ok,
    reason: ok
      ? `memory growth within the cache budget: RSS ${slopes.rss} MB/min, cache ${slopes.cache ?? '–'} MB/min, spare heap ${round((slopes.heapTotal ?? 0) - (slopes.heapUsed ?? 0), 3)} MB/min, the rest ${unexplained} MB/min (threshold ${thresholdMbPerMinute})`
      : `memory keeps growing: ${reasons.join('; ')}`,
  };
}

/** RSS against time, `height` rows by at most `width` columns (samples are bucketed by max). */
export function asciiChart(samples: readonly RssSample[], height = 10, width = 72): string {
  if (samples.length === 0) return '(no samples)';
  const per = Math.ceil(samples.length / width);
  const cols: number[] = [];
  for (let i = 0; i < samples.length; i += per) cols.push(Math.max(...samples.slice(i, i + per).map((s) => s.rssMb)));
  const lo = Math.floor(Math.min(...cols));
  const hi = Math.max(lo + 1, Math.ceil(Math.max(...cols)));
  const rows: string[] = [];
  for (let r = height - 1; r >= 0; r--) {
    const level = lo + ((hi - lo) * r) / (height - 1);
    const label = `${level.toFixed(0).padStart(5)} MB |`;
    rows.push(label + cols.map((v) => (Math.round(((v - lo) / (hi - lo)) * (height - 1)) === r ? '*' : ' ')).join(''));
  }
  const minutes = samples.at(-1)!.t / 60;
  rows.push(`${' '.repeat(9)}+${'-'.repeat(cols.length)}`);
  rows.push(`${' '.repeat(10)}0${' '.repeat(Math.max(1, cols.length - 8))}${minutes.toFixed(1)} min`);
  return rows.join('\n');
}

export interface SoakReportInput {
  minutes: number;
  interrupted: boolean;
  machine: string;
  date: string;
  settings: Record<string, unknown>;
  samples: RssSample[];
  verdict: RssVerdict;
  memory: MemoryVerdict;
  swarm: SwarmStats;
  churn: Record<string, number>;
  inference: { restarts: number; crashes: number; events: Array<{ at: number; what: string }> };
  server: {
    logWarnings: number;
    logErrors: number;
    logMessages: Record<string, number>;
    /** Displays the server still listed after every client had closed (0 expected). */
    displaysAfterClose: number | null;
    exit: { code: number | null; signal: string | null; killed: boolean; ms: number } | null;
    diedEarly: string | null;
  };
  /** Folder and inference events with their times, to read next to the gaps. */
  events: Array<{ at: number; what: string }>;
}

export function soakJson(r: SoakReportInput) {
  const first = [...r.swarm.firstFrameMs].sort((a, b) => a - b);
  const { firstFrameMs: _all, gaps, ...swarm } = r.swarm;
  return {
    ...r,
    swarm: {
      ...swarm,
      maxGapMsOverall: Math.round(swarm.maxGapMsOverall),
      firstFrameMs: {
        n: first.length,
        p50: round(percentile(first, 50)),
        p99: round(percentile(first, 99)),
        max: round(first.at(-1) ?? NaN),
      },
      gapCount: gaps.length,
      gaps,
    },
  };
}

const fig = (x: number | null) => (x === null ? '–' : x.toFixed(1));

export function soakMarkdown(r: SoakReportInput): string {
  const v = r.verdict;
  const s = r.swarm;
  const first = [...s.firstFrameMs].sort((a, b) => a - b);
  const table = (t: Record<string, number>) =>
    Object.keys(t).length
      ? Object.entries(t)
          .map(([k, n]) => `${k} × ${n}`)
          .join(', ')
      : 'none';
  const step = Math.max(1, Math.ceil(r.samples.length / 40));
  const rows = r.samples.filter((_, i) => i % step === 0 || i === r.samples.length - 1);
  const near = (at: number) =>
    r.events
      .filter((e) => Math.abs(e.at - at) <= 3)
      .map((e) => `${e.what} (${e.at.toFixed(0)} s)`)
      .join('; ');
  const errorsTotal = Object.values(s.errors).reduce((a, b) => a + b, 0) + Object.values(s.unexpectedCloses).reduce((a, b) => a + b, 0);
  return [
    `# Soak: ${r.minutes} min${r.interrupted ? ' (interrupted: partial)' : ''}`,
    '',
    `- Machine: ${r.machine}`,
    `- Date: ${r.date}`,
    `- Settings: ${Object.entries(r.settings)
      .map(([k, x]) => `${k} ${JSON.stringify(x)}`)
      .join(', ')}`,
    '- The box may be shared with other work (tests); gaps and CPU figures include its effect.',
    '',
    '## Verdict',
    '',
    `- **RSS ${v.flat ? 'flat' : 'NOT flat'} after warm-up**: slope ${v.slopeMbPerMinute} MB/min over the second half (from ${v.fromSeconds} s; threshold ±${v.thresholdMbPerMinute}), ` +
      `fitted growth ${v.growthMb} MB; range ${v.min}–${v.max} MB, mean after warm-up ${v.meanAfterWarmup} MB.`,
    `- **Memory ${r.memory.ok ? 'within the cache budget' : 'NOT explained by the cache'}**: ${r.memory.reason}. Second-half slopes, MB/min: ${Object.entries(
      r.memory.slopes,
    )
      .map(([k, x]) => `${k} ${x ?? '–'}`)
      .join(', ')}; ` +
      `cache held up to ${r.memory.cacheMaxMb ?? '–'} MB of its ${r.memory.cacheBudgetMb ?? '–'} MB budget${r.memory.cacheFullBySecondHalf ? ' (full through the second half)' : ''}.`,
    `- **Display errors / unexpected closes**: ${errorsTotal} (errors: ${table(s.errors)}; closes by the server: ${table(s.unexpectedCloses)}; refusals: ${table(s.refusals)}; bad messages: ${s.badMessages}).`,
    `- **Gaps over two slots (${2 * 250} ms) while connected**: ${s.gaps.length} (largest gap between frames: ${Math.round(s.maxGapMsOverall)} ms; displays that never got a frame: ${s.neverGotFrame}).`,
    `- **Server log**: ${r.server.logErrors} errors, ${r.server.logWarnings} warnings${Object.keys(r.server.logMessages).length ? ` (${table(r.server.logMessages)})` : ''}.`,
    `- **Server displays after every client closed**: ${r.server.displaysAfterClose ?? 'unknown'} (0 expected).`,
    `- **Server exit ${r.interrupted ? 'after Ctrl-C (the terminal signalled the server too, so a second signal may force code 1)' : 'on SIGTERM'}**: ${r.server.exit ? `code ${r.server.exit.code}${r.server.exit.signal ? `, signal ${r.server.exit.signal}` : ''} in ${r.server.exit.ms} ms${r.server.exit.killed ? ' (had to be killed)' : ''}` : 'not reached'}${r.server.diedEarly ? `; **died early**: ${r.server.diedEarly}` : ''}.`,
    '',
    '## Activity',
    '',
    `- Displays: ${s.connects} connects, ${s.opened} opened, ${s.closedByUs} closed politely, ${s.terminatedByUs} dropped without a close; ${s.frames} frames received; ` +
      `${s.pings} pings (${s.pongs} pongs), ${s.viewportChanges} viewport changes; connect → first frame p50 ${round(percentile(first, 50))} ms, p99 ${round(percentile(first, 99))} ms.`,
    `- Folder: ${table(r.churn)}.`,
    `- Inference service: ${r.inference.restarts} restarts (${r.inference.crashes} by SIGKILL).`,
    '',
    '## RSS over time',
    '',
    '```',
    asciiChart(r.samples),
    '```',
    '',
    "Memory parts from the server's /metrics: native = RSS − heap total − external (external includes array buffers, which hold the cache's renditions).",
    '',
    '| t (s) | RSS MB | cache MB | heap used / total MB | external MB | array buffers MB | native MB | archive entries | server CPU % | displays (clients / server) | frames/s |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...rows.map(
      (x) =>
        `| ${x.t} | ${x.rssMb.toFixed(1)} | ${fig(x.cacheMb)} | ${fig(x.heapUsedMb)} / ${fig(x.heapTotalMb)} | ${fig(x.externalMb)} | ${fig(x.arrayBuffersMb)} | ${fig(x.nativeMb)} | ${x.archiveEntries ?? '–'} | ${x.cpuPercent.toFixed(0)} | ${x.displays} / ${x.serverDisplays ?? '–'} | ${x.framesPerSecond.toFixed(0)} |`,
    ),
    '',
    ...(s.gaps.length
      ? [
          '## Gaps',
          '',
          '| t (s) | display | canvas | mode | gap ms | kind | events within 3 s |',
          '|--:|--:|---|---|--:|---|---|',
          ...s.gaps
            .slice(0, 100)
            .map(
              (g) =>
                `| ${g.at.toFixed(1)} | ${g.display} | ${g.slug} | ${g.mode} | ${g.gapMs} | ${g.trailing ? 'before our close' : 'between frames'} | ${near(g.at) || '–'} |`,
            ),
          s.gaps.length > 100 ? `\n(${s.gaps.length - 100} more in the JSON)` : '',
          '',
        ]
      : []),
  ].join('\n');
}
