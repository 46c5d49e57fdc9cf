/** The result of tools/bench/cluster-failover.ts and its Markdown page (bench/results/cluster-failover.md). */
import { machineLine, type MachineInfo } from './machine.js';
import { roundSummary, summarize, type Summary } from './stats.js';

export interface FailoverKill {
  kill: number;
  /** The node killed (it produced the canvas) and the one that took the canvas. */
  killed: string;
  newOwner: string;
  /** Displays on the surviving nodes that were watched, and how many of them never got a frame again within the horizon. */
  displays: number;
  neverResumed: number;
  /** The nodes those displays were on. */
  neverResumedOn: string[];
  /** Median over the watched displays of the hole in their frames, ms (a normal interval is 250 ms at 4 FPS). */
  gapMs: number;
  /** The longest hole any watched display had, ms. */
  worstGapMs: number;
  /** Median over the displays of kill → first frame after the hole, ms. */
  killToResumeMs: number;
  /** Median seq step across the hole (1 = no seq skipped). */
  seqJump: number;
  /** Median over the displays of the longest interval after the hole, up to the next kill: another hole means the canvas stalled or moved again. */
  laterHoleMs: number;
  /** When the harness, polling GET /api/canvases/:slug, saw both survivors two frames on, ms after the kill. */
  seenResumedMs: number;
}

export interface FailoverLeaseResult {
  leaseMs: number;
  /** README: a dead owner's canvas is taken within lease + one renewal interval. */
  statedBoundMs: number;
  displays: number;
  kills: FailoverKill[];
  summary: FailoverSummary;
  violations: { seqNotRising: number; presentAtBackwards: number };
  nodeLogs: Array<{ id: string; warn: number; error: number; messages: Record<string, number> }>;
}

export interface FailoverSummary {
  kills: number;
  /** Over kills, of each kill's median gap. */
  gapMs: Summary;
  /** Over kills, of each kill's worst display. */
  worstGapMs: Summary;
  killToResumeMs: Summary;
  neverResumed: number;
  /** Kills followed by another hole of 1 s or more before the next kill. */
  laterHoles: number;
}

export interface FailoverResult {
  machine: MachineInfo;
  serverRuntime: string;
  options: { kills: number; leases: number[]; displaysPerNode: number; server: string };
  leases: FailoverLeaseResult[];
  errors: Record<string, string>;
  loadAverageEnd: number[];
}

export function summariseKills(kills: readonly FailoverKill[]): FailoverSummary {
  const of = (key: 'gapMs' | 'worstGapMs' | 'killToResumeMs') => roundSummary(summarize(kills.map((k) => k[key]).filter(Number.isFinite)));
  return {
    kills: kills.length,
    gapMs: of('gapMs'),
    worstGapMs: of('worstGapMs'),
    killToResumeMs: of('killToResumeMs'),
    neverResumed: kills.reduce((s, k) => s + k.neverResumed, 0),
    laterHoles: kills.filter((k) => k.laterHoleMs >= 1000).length,
  };
}

export function clusterFailoverMarkdown(r: FailoverResult): string {
  const summaryRow = (l: FailoverLeaseResult) =>
    `| ${l.leaseMs} | ${l.statedBoundMs} | ${l.summary.kills} | ${l.summary.gapMs.p50} / ${l.summary.gapMs.p90} / ${l.summary.gapMs.max} | ` +
    `${l.summary.worstGapMs.max} | ${l.summary.killToResumeMs.p50} / ${l.summary.killToResumeMs.max} | ${l.summary.neverResumed} | ` +
    `${l.violations.seqNotRising} / ${l.violations.presentAtBackwards} | ${l.summary.laterHoles} |`;
  const killRows = (l: FailoverLeaseResult) =>
    l.kills.map(
      (k) =>
        `| ${l.leaseMs} | ${k.kill} | ${k.killed} → ${k.newOwner} | ${k.displays} | ${k.gapMs} | ${k.worstGapMs} | ${k.killToResumeMs} | ${k.seqJump} | ${k.neverResumed}${k.neverResumedOn.length ? ` (${k.neverResumedOn.join(', ')})` : ''} | ${k.laterHoleMs} |`,
    );
  return [
    '# Cluster failover: kill -9 the node producing a canvas, again and again',
    '',
    `Machine: ${machineLine(r.machine)} (load average ${r.machine.loadAverage.join(', ')} at the start, ${r.loadAverageEnd.join(', ')} at the end)`,
    `Date: ${r.machine.date}; server: ${r.serverRuntime}`,
    '',
    `A real redis-server and 3 nodes (separate processes, loopback) declaring one canvas that loops the bundled images at 4 FPS, ` +
      `${r.options.displaysPerNode} displays per node (the \`ws\` package, protocol v2). Each round: frames flowing on every node, ` +
      'the owner (GET /api/cluster) killed with SIGKILL, frames awaited on both survivors, then a new node started in its place ' +
      'with displays of its own. The **gap** of a display is the hole the kill left in its frames: from the last frame before ' +
      'it to the first frame after it that came more than 500 ms after the kill (frames still in flight from the dead owner land ' +
      'within a few ms; no new owner can produce before the lease runs out), so it includes one normal 250 ms interval.',
    '',
    '| Lease ms | Stated bound ms | Kills | Gap ms median / p90 / max | Worst display ms | Kill → first frame ms median / max | Never resumed | seq not rising / presentAt back | Later holes ≥ 1 s |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...r.leases.map(summaryRow),
    '',
    'Gap per kill is the median over the displays of the two surviving nodes; the stated bound is the README\'s "taken within ' +
      'lease + one renewal interval". Violations are counted over every frame every display received in the run. ' +
      '"Later holes" are kills after which the displays (median) had another interval of 1 s or more before the next kill, ' +
      'while the replacement node started: the canvas stalled or moved again.',
    '',
    '| Lease ms | Kill | Killed → new owner | Displays watched | Gap ms (median) | Worst display ms | Kill → first frame ms | seq step | Never resumed | Longest later interval ms |',
    '|--:|--:|---|--:|--:|--:|--:|--:|--:|--:|',
    ...r.leases.flatMap(killRows),
    '',
    "Noise: one run per lease on a box of 2 cores shared with other workers' tests and a memory soak (load averages above); " +
      'the replacement node starts beside the survivors, so the later holes (seq step 1, on the owner’s own displays too, ' +
      'the owner unchanged at the next kill) look like the owner starved of CPU rather than a handover; not repeated.',
    ...(Object.keys(r.errors).length ? ['', ...Object.entries(r.errors).map(([l, e]) => `- lease ${l} ms failed: ${e}`)] : []),
    '',
  ].join('\n');
}

/** `previous` (a cluster-failover.json) with the leases of `next` replacing or joining its own. */
export function mergeFailover(previous: string | null, next: FailoverResult): FailoverResult {
  if (!previous) return next;
  const old = JSON.parse(previous) as FailoverResult;
  const mine = new Set(next.leases.map((l) => l.leaseMs));
  const leases = [...old.leases.filter((l) => !mine.has(l.leaseMs)), ...next.leases].sort((a, b) => b.leaseMs - a.leaseMs);
  return { ...next, options: { ...next.options, leases: leases.map((l) => l.leaseMs) }, leases, errors: { ...old.errors, ...next.errors } };
}
