/** The command line of the fan-out benchmark, shared by fanout-steps.ts and all.ts. */
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { FanoutStepsOptions } from '../fanout-steps.js';
import { PROJECT_ROOT } from './children.js';

export const DEFAULT_STEPS = [100, 500, 1000, 2000, 4000];
export const QUICK_STEPS = [500, 2000, 4000];

function parseSteps(text: string): number[] {
  const steps = text.split(',').map((s) => Number(s.trim()));
  if (steps.some((s) => !Number.isInteger(s) || s < 1))
    throw new Error(`Invalid --steps "${text}": expected comma-separated positive integers, e.g. 100,500,2000`);
  return steps;
}

function parseViewport(text: string): string {
  if (text === '') return '';
  const m = /^(\d+)x(\d+)$/.exec(text);
  if (!m) throw new Error(`Invalid --viewport "${text}": expected WIDTHxHEIGHT, e.g. 1920x1080`);
  return `w=${m[1]}&h=${m[2]}`;
}

function parseServerRuntime(text: string): 'build' | 'tsx' {
  if (text !== 'build' && text !== 'tsx') throw new Error(`Invalid --server "${text}": expected build or tsx`);
  return text;
}

/** Reads the command line; `--quick` changes the defaults, explicit flags still win. */
export function parseFanoutArgs(argv: string[]): FanoutStepsOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      steps: { type: 'string' },
      canvases: { type: 'string', default: '8' },
      workers: { type: 'string', default: '4' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      viewport: { type: 'string', default: '' },
      'cpu-prof': { type: 'boolean', default: false },
      server: { type: 'string', default: 'build' },
      retries: { type: 'string', default: '1' },
      'out-dir': { type: 'string' },
    },
    strict: true,
  });
  const positive = (name: string, raw: string) => {
    const v = Number(raw);
    if (!(v > 0) || !Number.isFinite(v)) throw new Error(`Invalid --${name} "${raw}": expected a positive number`);
    return v;
  };
  const count = (name: string, raw: string) => {
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 0) throw new Error(`Invalid --${name} "${raw}": expected a whole number ≥ 0`);
    return v;
  };
  const quick = values.quick;
  return {
    steps: values.steps ? parseSteps(values.steps) : quick ? QUICK_STEPS : DEFAULT_STEPS,
    canvases: positive('canvases', values.canvases),
    workers: positive('workers', values.workers),
    windowSeconds: positive('seconds', values.seconds ?? (quick ? '8' : '20')),
    warmupSeconds: positive('warmup', values.warmup ?? (quick ? '3' : '5')),
    holdFps: 3.8,
    holdFraction: 0.99,
    viewportQuery: parseViewport(values.viewport),
    cpuProf: values['cpu-prof'],
    server: parseServerRuntime(values.server),
    retries: count('retries', values.retries),
    noisyOtherPercent: 50,
    outDir: path.resolve(PROJECT_ROOT, values['out-dir'] ?? (quick ? 'bench/results/quick' : 'bench/results')),
    log: (line) => process.stderr.write(`${line}\n`),
  };
}
