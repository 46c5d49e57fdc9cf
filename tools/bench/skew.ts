/**
 * Skew benchmark (issue 11, "screens in step"): how far apart two screens of one canvas change,
 * with and without a Wi-Fi-like link to screen B, with and without screen B's clock shifted.
 * Two separate Chromium processes show one canvas of solid-colour frames from the real server;
 * the moment each frame reached each screen comes from the DevTools screencast, outside the
 * page (test/support/screen-timing.ts, shared with test/browser/screens-in-step.test.ts).
 *
 *   npx tsx tools/bench/skew.ts [--frames 100] [--fps 4] [--shift-ms 5000] [--lead-ms 300] [--out-dir bench/results]
 *
 * About 30 s per case at 100 frames and 4 FPS, four cases.
 */
import { execFileSync } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createScreenRig, type ScreenRunOptions, type ScreenSkewResult } from '../../test/support/screen-timing.js';
import { PROJECT_ROOT } from './support/children.js';
import { machineInfo, machineLine, type MachineInfo } from './support/machine.js';
import { isMain } from './support/main-module.js';

/** The link of the test: each chunk held 20–60 ms, both ways. */
const WIFI = { minDelayMs: 20, maxDelayMs: 60 };

export interface SkewCase {
  name: string;
  proxy: ScreenRunOptions['proxy'];
  clockShiftMs: number;
  /** The 1-minute load average when the case ended: the box is shared. */
  loadAverage: number;
  result: ScreenSkewResult;
}

export interface SkewBenchResult {
  machine: MachineInfo;
  /** The code measured: `git describe --always --dirty`, or null outside a checkout. */
  commit: string | null;
  /** The canvas's lead (EASEL_LEAD_MS), when the run set one. */
  leadMs: number | null;
  frames: number;
  fps: number;
  cases: SkewCase[];
}

export interface SkewOptions {
  frames: number;
  fps: number;
  shiftMs: number;
  /** Sets the canvas's lead (EASEL_LEAD_MS) instead of the server's default. */
  leadMs?: number;
  log: (line: string) => void;
}

function commitOf(): string | null {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: PROJECT_ROOT, encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}

export async function runSkew(options: SkewOptions): Promise<SkewBenchResult> {
  const machine = machineInfo();
  const plans: Array<Omit<SkewCase, 'result' | 'loadAverage'>> = [
    { name: 'direct', proxy: null, clockShiftMs: 0 },
    { name: 'clock shifted', proxy: null, clockShiftMs: options.shiftMs },
    { name: 'delaying link', proxy: WIFI, clockShiftMs: 0 },
    { name: 'delaying link + clock shifted', proxy: WIFI, clockShiftMs: options.shiftMs },
  ];
  const env: Record<string, string> = options.leadMs === undefined ? {} : { EASEL_LEAD_MS: String(options.leadMs) };
  const rig = await createScreenRig({ fps: options.fps, env, log: options.log });
  const cases: SkewCase[] = [];
  try {
    for (const plan of plans) {
      options.log(`skew: ${plan.name}`);
      const result = await rig.measure({ frames: options.frames, proxy: plan.proxy, clockShiftMs: plan.clockShiftMs });
      const loadAverage = Math.round(os.loadavg()[0]! * 100) / 100;
      cases.push({ ...plan, loadAverage, result });
      options.log(
        `skew: ${plan.name}: median ${result.medianMs} ms, p95 ${result.p95Ms} ms, max ${result.maxMs} ms, paired ${result.paired}/${result.frames}, load ${loadAverage}`,
      );
    }
  } finally {
    await rig.close();
  }
  return { machine, commit: commitOf(), leadMs: options.leadMs ?? null, frames: options.frames, fps: options.fps, cases };
}

export function skewMarkdown(r: SkewBenchResult): string {
  const late = (v: number | null) => (v === null ? 'n/a' : String(v));
  const row = ({ name, result: x, loadAverage }: SkewCase) =>
    `| ${name} | ${x.medianMs} | ${x.p95Ms} | ${x.maxMs} | ${x.medianSignedMs} | ${x.paired}/${x.frames} | ${late(x.late.a)} / ${late(x.late.b)} | ${loadAverage} |`;
  const lags = r.cases.map((c) => `${c.result.recording.a.lagMedianMs} / ${c.result.recording.b.lagMedianMs}`).join(', ');
  return [
    '# Skew: two screens of one canvas',
    '',
    `Machine: ${machineLine(r.machine)} (load average ${r.machine.loadAverage.join(', ')} at the start)`,
    `Date: ${r.machine.date}`,
    `Code: ${r.commit ?? 'unknown'}; canvas lead: ${r.leadMs === null ? "the server's default" : `${r.leadMs} ms`}`,
    '',
    `Two Chromium processes (headless, software compositing) show one canvas at ${r.fps} FPS; screen B may reach the server ` +
      `through a proxy that holds each chunk ${WIFI.minDelayMs}–${WIFI.maxDelayMs} ms (a Wi-Fi-like link) and may have its ` +
      'clock shifted (Date, timeOrigin). The moment a frame reached a screen is the compositor time of the first screencast ' +
      `picture showing it (DevTools \`Page.screencastFrame\`, whole 60 Hz refreshes, so skews come in 16.7 ms steps). ${r.frames} frames per case.`,
    '',
    '| Case | Median ms | p95 ms | Max ms | B − A median ms | Frames paired | Late A / B | Load (1 min) |',
    '|---|--:|--:|--:|--:|--:|--:|--:|',
    ...r.cases.map(row),
    '',
    '"Late" is `stats.framesLate` of each display over the run; n/a where the display does not count late frames.',
    `The instrument: each screencast picture reached this process a median ${lags} ms (A / B, per case) after its timestamp, ` +
      "so the timestamps are this machine's wall clock on both screens, not the shifted page clock.",
    '',
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: {
      frames: { type: 'string', default: '100' },
      fps: { type: 'string', default: '4' },
      'shift-ms': { type: 'string', default: '5000' },
      'lead-ms': { type: 'string' },
      'out-dir': { type: 'string', default: 'bench/results' },
    },
    strict: true,
  });
  const positive = (name: string, raw: string, integer: boolean) => {
    const v = Number(raw);
    if (!(v > 0) || (integer && !Number.isInteger(v)))
      throw new Error(`--${name} must be a positive ${integer ? 'whole ' : ''}number, got "${raw}"`);
    return v;
  };
  const shiftMs = Number(values['shift-ms']);
  if (!Number.isFinite(shiftMs)) throw new Error(`--shift-ms must be a number of milliseconds, got "${values['shift-ms']}"`);
  const result = await runSkew({
    frames: positive('frames', values.frames, true),
    fps: positive('fps', values.fps, false),
    shiftMs,
    ...(values['lead-ms'] !== undefined ? { leadMs: positive('lead-ms', values['lead-ms'], true) } : {}),
    log: (l) => process.stderr.write(`${l}\n`),
  });
  const dir = path.resolve(PROJECT_ROOT, values['out-dir']);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'skew.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(dir, 'skew.md'), skewMarkdown(result));
  process.stdout.write(skewMarkdown(result));
}
