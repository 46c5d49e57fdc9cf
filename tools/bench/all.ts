/**
 * `npm run bench`: every benchmark of issue 6 in turn — render, fan-out steps, inference,
 * wire — issue 11's skew between two screens (bench/results/skew.md) and tiled wall
 * (bench/results/tiles.md), issue 12's cluster fan-out and failover (cluster-fanout.md,
 * cluster-failover.md), issue 13's archive store (archive.md) and archiving's cost to a running
 * server at 4 FPS (archive-pacing.md), then one summary (bench/results/summary.{md,json}) with the machine and, for each
 * target, the measured figure and whether it was met or missed and by how much.
 *
 *   npx tsx tools/bench/all.ts            # full run, ~25 min on a 2-core box → bench/results/
 *   npx tsx tools/bench/all.ts --quick    # ~10 min, shorter windows → bench/results/quick/
 *
 * A quick run writes to its own folder so it never replaces the figures of a full run. Each
 * stage that fails is reported in the summary and makes the exit code 1; the others still run.
 * `--summary-only` rewrites summary.md from the JSON files already in the folder.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT, exited, spawnTs } from './support/children.js';
import { machineInfo } from './support/machine.js';
import { isMain } from './support/main-module.js';
import { parseFanoutArgs, runFanoutSteps, writeFanoutResults, type FanoutStepsResult } from './fanout-steps.js';
import { runWire, wireMarkdown, type WireResult } from './wire.js';
import { evaluateTargets, summaryMarkdown, type InferenceResult, type RenderResult, type SummaryInput } from './support/summary.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function runScript(script: string, args: string[], nodeArgs: string[] = []): Promise<void> {
  // The scripts print their tables on stdout; ours is kept for the summary, so theirs goes to stderr.
  const child = spawnTs(path.join(PROJECT_ROOT, script), args, { stdio: ['ignore', 2, 2], nodeArgs });
  const { code, signal } = await exited(child);
  if (code !== 0) throw new Error(`${script} exited with ${signal ?? `code ${code}`}`);
}

async function readJson<T>(file: string): Promise<T> {
  return JSON.parse(await readFile(file, 'utf8')) as T;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      'out-dir': { type: 'string' },
      'summary-only': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const quick = values.quick;
  const outDir = path.resolve(PROJECT_ROOT, values['out-dir'] ?? (quick ? 'bench/results/quick' : 'bench/results'));
  await mkdir(outDir, { recursive: true });
  const machine = machineInfo();
  const input: SummaryInput = { machine, quick, outDir, stages: {}, errors: {} };
  const stage = async (name: string, fn: () => Promise<void>) => {
    const t0 = performance.now();
    log(`\n== ${name} ==`);
    try {
      await fn();
    } catch (err) {
      input.errors[name] = (err as Error).message;
      log(`${name} failed: ${(err as Error).message}`);
    }
    input.stages[name] = Math.round((performance.now() - t0) / 1000);
  };

  if (values['summary-only']) {
    const previous = await readJson<{ machine: typeof machine; stagesSeconds: Record<string, number>; errors: Record<string, string> }>(
      path.join(outDir, 'summary.json'),
    );
    Object.assign(input, { machine: previous.machine, stages: previous.stagesSeconds, errors: previous.errors });
    const optional = async <T>(file: string) => readJson<T>(path.join(outDir, file)).catch(() => undefined);
    input.render = await optional<RenderResult>('render.json');
    input.fanout = await optional<FanoutStepsResult>('fanout-steps.json');
    input.inference = await optional<InferenceResult>('inference.json');
    input.wire = await optional<WireResult>('wire.json');
    await writeSummary(input, outDir);
    return 0;
  }

  await stage('render', async () => {
    await runScript('tools/bench/render.ts', [...(quick ? ['--quick'] : []), '--out-dir', outDir]);
    input.render = await readJson<RenderResult>(path.join(outDir, 'render.json'));
  });
  await stage('fanout', async () => {
    const options = parseFanoutArgs([...(quick ? ['--quick'] : []), '--out-dir', outDir]);
    const result: FanoutStepsResult = await runFanoutSteps(options);
    await writeFanoutResults(result, outDir);
    input.fanout = result;
  });
  await stage('inference', async () => {
    await runScript('tools/bench/inference.ts', ['--seconds', quick ? '6' : '20', '--out-dir', outDir]);
    input.inference = await readJson<InferenceResult>(path.join(outDir, 'inference.json'));
  });
  await stage('wire', async () => {
    const result: WireResult = await runWire({ seconds: quick ? 6 : 12, log });
    await writeFile(path.join(outDir, 'wire.json'), `${JSON.stringify(result, null, 2)}\n`);
    await writeFile(path.join(outDir, 'wire.md'), wireMarkdown(result));
    input.wire = result;
  });

  await stage('skew', async () => {
    // Its own process: two Chromiums and a server of its own, gone when it ends.
    await runScript('tools/bench/skew.ts', ['--frames', quick ? '40' : '100', '--out-dir', outDir]);
  });

  await stage('tiles', async () => {
    await runScript('tools/bench/tiles.ts', [...(quick ? ['--quick'] : []), '--out-dir', outDir]);
  });

  // Issue 12: each its own process with its own redis-server and nodes. The full run kills at the
  // default lease only; `npm run bench:failover` also tries a shorter one.
  await stage('cluster-fanout', async () => {
    await runScript('tools/bench/cluster-fanout.ts', [...(quick ? ['--quick'] : []), '--out-dir', outDir]);
  });
  await stage('cluster-failover', async () => {
    await runScript('tools/bench/cluster-failover.ts', [...(quick ? ['--quick'] : ['--lease-ms', '3000']), '--out-dir', outDir]);
  });

  // Issue 13: the store alone (write cost, 100,000 entries; --expose-gc for its heap figure), then
  // a server with 8 generating canvases, archive off and on in turn.
  await stage('archive', async () => {
    await runScript(
      'tools/bench/archive.ts',
      [...(quick ? ['--entries', '20000', '--frames', '100'] : []), '--out-dir', outDir],
      ['--expose-gc'],
    );
  });
  await stage('archive-pacing', async () => {
    await runScript('tools/bench/archive-pacing.ts', [...(quick ? ['--quick'] : []), '--out-dir', outDir]);
  });

  await writeSummary(input, outDir);
  return Object.keys(input.errors).length ? 1 : 0;
}

async function writeSummary(input: SummaryInput, outDir: string): Promise<void> {
  const markdown = summaryMarkdown(input);
  const json = {
    machine: input.machine,
    quick: input.quick,
    stagesSeconds: input.stages,
    errors: input.errors,
    targets: evaluateTargets(input),
  };
  await writeFile(path.join(outDir, 'summary.md'), markdown);
  await writeFile(path.join(outDir, 'summary.json'), `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(markdown);
  log(
    `\nWrote ${path.relative(PROJECT_ROOT, outDir)}/summary.{md,json} (stages: ${Object.entries(input.stages)
      .map(([k, v]) => `${k} ${v} s`)
      .join(', ')})`,
  );
}

if (isMain(import.meta.url)) process.exitCode = await main();
