/**
 * `npm run soak -- --minutes N`: Easel under a slow, messy, realistic load for N minutes.
 *
 * The server runs as its own process on loopback with three canvases: two on a folder copied to
 * a temp dir (name order and shuffle) and one generating from the dev inference service (its
 * own process; its fallback is the same folder). Meanwhile displays connect and disconnect at
 * random within bounds (binary and JSON mode, several screen sizes, pings, viewport changes,
 * some dropped without a close), the folder changes (images added — some as slow two-part
 * copies — removed and rewritten), and the inference service is restarted now and then,
 * sometimes by SIGKILL. Every `--sample-seconds` the server's RSS is read from /proc, and its
 * /metrics for the rendition cache, JS heap, external memory and array buffers (native is the rest).
 *
 * It reports RSS and its parts over time, error counts, and every gap over two frame slots a
 * connected display saw, to bench/results/soak-<N>m.{json,md}. It exits 1 with a line saying why
 * when RSS keeps growing over the second half by more than the rendition cache explains
 * (--flat-mb-per-min), or the cache outgrows its budget. `--cache-mb` sets the cache budget
 * (EASEL_RENDER_CACHE_MB); a small one fills in minutes, so a short soak sees memory level off.
 * `--folder-every` is the mean seconds between folder changes (3–10 s by default): new pictures
 * are what fills the cache, so a shorter one fills the default budget within a run of hours.
 * The report names the allocator the server process has loaded (glibc, or jemalloc preloaded).
 * The archive is on, as it is by default, in the temp dir: it keeps every generated frame and
 * its index lives in the heap until `--archive-mb` (archive.maxMb) makes retention remove the oldest.
 * It stops by itself; Ctrl-C writes what it has so far and stops every child process.
 *
 *   npm run soak -- --minutes 30 [--min-displays 10] [--max-displays 60] [--seed 7]
 *     [--sample-seconds 10] [--inference-latency-ms 207] [--flat-mb-per-min 0.5] [--server build|tsx]
 *     [--cache-mb 16] [--folder-every 6.5] [--archive-mb 4096] [--out-dir bench/results]
 *
 * The server runs compiled with plain node as `npm start` runs it (built into .tmp/bench-build/);
 * `--server tsx` runs the TypeScript sources instead.
 */
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT, exited, onInterrupt } from './bench/support/children.js';
import { machineInfo, machineLine } from './bench/support/machine.js';
import { sleep } from './bench/support/main-module.js';
import { tryProcStat } from './bench/support/proc.js';
import { chooseServerRuntime, startServerProcess } from './bench/support/server-process.js';
import { createDisplaySwarm } from './soak/display-swarm.js';
import { copyImages, createFolderChurn } from './soak/folder-churn.js';
import { createInferenceProcess, freePort } from './soak/inference-process.js';
import { between, createRandom } from './support/random.js';
import { fetchMemory, loadedAllocator } from './soak/memory.js';
import { memoryVerdict, rssVerdict, soakJson, soakMarkdown, type RssSample, type SoakReportInput } from './soak/report.js';

/** render.cacheMegabytes' default (server/config.ts). */
const DEFAULT_CACHE_MB = 128;

const USAGE =
  'Usage: npm run soak -- --minutes N [--min-displays 10] [--max-displays 60] [--seed N] [--sample-seconds 10] [--inference-latency-ms 207] [--flat-mb-per-min 0.5] [--cache-mb N] [--folder-every 6.5] [--archive-mb N] [--server build|tsx] [--out-dir bench/results]';

function parseOptions(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      minutes: { type: 'string', default: '30' },
      'min-displays': { type: 'string', default: '10' },
      'max-displays': { type: 'string', default: '60' },
      seed: { type: 'string' },
      'sample-seconds': { type: 'string', default: '10' },
      'inference-latency-ms': { type: 'string', default: '207' },
      'flat-mb-per-min': { type: 'string', default: '0.5' },
      'out-dir': { type: 'string', default: 'bench/results' },
      'cache-mb': { type: 'string' },
      'folder-every': { type: 'string', default: '6.5' },
      'archive-mb': { type: 'string' },
      server: { type: 'string', default: 'build' },
    },
    strict: true,
  });
  const num = (name: keyof typeof values, low: number, high: number) => {
    const v = Number(values[name]);
    if (values[name] === '' || !Number.isFinite(v) || v < low || v > high)
      throw new Error(`Invalid --${name} "${values[name]}": expected a number from ${low} to ${high}`);
    return v;
  };
  if (values.server !== 'build' && values.server !== 'tsx') throw new Error(`Invalid --server "${values.server}": expected build or tsx`);
  const minDisplays = num('min-displays', 0, 5000);
  const maxDisplays = num('max-displays', Math.max(1, minDisplays), 5000);
  return {
    minutes: num('minutes', 0.2, 24 * 60),
    minDisplays,
    maxDisplays,
    seed: values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : num('seed', 0, 2 ** 31),
    sampleSeconds: num('sample-seconds', 1, 600),
    inferenceLatencyMs: num('inference-latency-ms', 0, 10_000),
    flatMbPerMinute: num('flat-mb-per-min', 0, 1000),
    outDir: path.resolve(PROJECT_ROOT, values['out-dir']),
    /** The rendition cache budget the server runs with: --cache-mb, else the environment, else the default. */
    cacheMb:
      values['cache-mb'] !== undefined
        ? num('cache-mb', 0, 100_000)
        : process.env.EASEL_RENDER_CACHE_MB
          ? Number(process.env.EASEL_RENDER_CACHE_MB)
          : DEFAULT_CACHE_MB,
    /** Mean seconds between folder changes: a shorter one fills the rendition cache sooner. */
    folderEvery: num('folder-every', 0.5, 600),
    /** The archive's size budget (archive.maxMb); the server's default when not given. */
    archiveMb: values['archive-mb'] === undefined ? null : num('archive-mb', 1, 1_000_000),
    server: values.server,
  };
}

async function main(): Promise<number> {
  let o: ReturnType<typeof parseOptions>;
  try {
    o = parseOptions(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const log = (line: string) => process.stderr.write(`[soak ${elapsed().toFixed(0).padStart(4)} s] ${line}\n`);
  const random = createRandom(o.seed);
  const machine = machineInfo();
  const t0 = performance.now();
  const elapsed = () => (performance.now() - t0) / 1000;
  const events: Array<{ at: number; what: string }> = [];
  /** Set once the soak winds down: scheduled steps stop, late ones are not recorded. */
  let ending = false;
  const event = (what: string) => {
    if (ending) return; // a scheduled step that finished after the end belongs to no sample
    events.push({ at: Math.round(elapsed() * 10) / 10, what });
    log(what);
  };

  const dir = await mkdtemp(path.join(os.tmpdir(), 'easel-soak-'));
  const archiveDir = await mkdtemp(path.join(os.tmpdir(), 'easel-soak-archive-'));
  const assetsDir = path.join(PROJECT_ROOT, 'assets');
  const copied = await copyImages(assetsDir, dir);
  const sources = await Promise.all(
    (await readdir(assetsDir)).filter((n) => /\.(jpe?g|png|webp)$/i.test(n)).map((n) => readFile(path.join(assetsDir, n))),
  );
  const churn = createFolderChurn({ dir, sources, random, minFiles: 4, maxFiles: 24 });
  const inferencePort = await freePort();
  const inference = createInferenceProcess({ port: inferencePort, latencyMs: o.inferenceLatencyMs });
  const inferenceStats = { restarts: 0, crashes: 0, events: [] as Array<{ at: number; what: string }> };
  log(
    `seed ${o.seed}; folder ${dir} (${copied} images); dev inference service on 127.0.0.1:${inferencePort} at ${o.inferenceLatencyMs} ms/image`,
  );

  const { entry, runtime: serverRuntime } = await chooseServerRuntime(o.server === 'build' ? 'build' : 'tsx');
  log(`server runs as: ${serverRuntime}`);

  await inference.start();
  const slugs = ['soak-folder', 'soak-shuffle', 'soak-gen'];
  const server = await startServerProcess({
    ...(entry ? { entry } : {}),
    canvases: [
      { slug: 'soak-folder', source: { type: 'folder', path: dir, order: 'name' } },
      { slug: 'soak-shuffle', source: { type: 'folder', path: dir, order: 'shuffle' } },
      { slug: 'soak-gen', source: { type: 'inference', prompt: 'a soak test of a slow drifting watercolour', fallback: dir } },
    ],
    env: {
      EASEL_INFERENCE_ENDPOINTS: `127.0.0.1:${inferencePort}`,
      EASEL_RENDER_CACHE_MB: String(o.cacheMb),
      EASEL_ARCHIVE_DIR: archiveDir,
      ...(o.archiveMb === null ? {} : { EASEL_ARCHIVE_MAX_MB: String(o.archiveMb) }),
    },
  });
  log(`server pid ${server.pid} on port ${server.port}`);
  const allocator = await loadedAllocator(server.pid);
  log(`server allocator: ${allocator}`);
  await server.waitForPublished(slugs, 2);

  const swarm = createDisplaySwarm({
    url: (slug, query) => server.wsUrl(slug, query),
    slugs,
    periodMs: 250,
    minDisplays: o.minDisplays,
    maxDisplays: o.maxDisplays,
    lifetimeSeconds: [5, 120],
    random,
    elapsed,
  });

  let diedEarly: string | null = null;
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const every = (fn: () => Promise<void> | void, delay: () => number) => {
    const run = () => {
      if (ending) return;
      const t = setTimeout(async () => {
        timers.delete(t);
        if (ending) return;
        try {
          await fn();
        } catch (err) {
          if (!ending) event(`scheduled step failed: ${(err as Error).message}`);
        }
        run();
      }, delay());
      timers.add(t);
    };
    run();
  };

  const samples: RssSample[] = [];
  let lastCpu = server.stat().cpuSeconds;
  let lastFrames = 0;
  let lastAt = elapsed();
  const sample = async () => {
    const stat = tryProcStat(server.pid);
    if (!stat) return;
    const now = elapsed();
    let serverDisplays: number | null = null;
    try {
      const body = (await (await fetch(`http://127.0.0.1:${server.port}/api/canvases`)).json()) as {
        canvases: Array<{ displays: number }>;
      };
      serverDisplays = body.canvases.reduce((s, c) => s + c.displays, 0);
    } catch {
      serverDisplays = null;
    }
    const dt = Math.max(0.001, now - lastAt);
    const memory = await fetchMemory(server.port, stat.rssMb);
    samples.push({
      ...memory,
      t: Math.round(now),
      rssMb: Math.round(stat.rssMb * 10) / 10,
      cpuPercent: Math.round((100 * (stat.cpuSeconds - lastCpu)) / dt),
      displays: swarm.connected,
      serverDisplays,
      framesPerSecond: Math.round((swarm.stats.frames - lastFrames) / dt),
    });
    lastCpu = stat.cpuSeconds;
    lastFrames = swarm.stats.frames;
    lastAt = now;
  };

  await sample();
  every(
    () => swarm.tick(),
    () => 1000,
  );
  every(sample, () => o.sampleSeconds * 1000);
  every(
    async () => event(`folder: ${await churn.step()}`),
    () => 1000 * between(random, o.folderEvery * 0.46, o.folderEvery * 1.54),
  );
  every(
    async () => {
      const crash = random() < 0.3;
      event(`inference: ${crash ? 'killed (SIGKILL)' : 'stopped (SIGTERM)'}`);
      await inference.stop(crash ? 'SIGKILL' : 'SIGTERM');
      inferenceStats.restarts++;
      if (crash) inferenceStats.crashes++;
      await sleep(1000 * between(random, 1, 6));
      if (ending) return;
      await inference.start();
      event('inference: started again');
    },
    () => 1000 * between(random, 30, 75),
  );
  void exited(server.child).then(({ code, signal }) => {
    if (!ending) {
      diedEarly = `exited with ${signal ?? `code ${code}`} at ${elapsed().toFixed(0)} s: ${server.stderrTail().slice(-500)}`;
      event(`server ${diedEarly}`);
      stopSoon();
    }
  });

  let wake: () => void = () => undefined;
  const stopSoon = () => wake();
  const done = new Promise<void>((resolve) => (wake = resolve));
  const endTimer = setTimeout(stopSoon, o.minutes * 60_000);

  let finished: Promise<number> | undefined;
  const finish = (interrupted: boolean) =>
    (finished ??= (async () => {
      ending = true;
      clearTimeout(endTimer);
      for (const t of timers) clearTimeout(t);
      if (!diedEarly) await sample();
      log('closing every display');
      await swarm.closeAll();
      let displaysAfterClose: number | null = null;
      if (!diedEarly) {
        await sleep(1000);
        try {
          const body = (await (await fetch(`http://127.0.0.1:${server.port}/api/canvases`)).json()) as {
            canvases: Array<{ displays: number }>;
          };
          displaysAfterClose = body.canvases.reduce((s, c) => s + c.displays, 0);
        } catch {
          displaysAfterClose = null;
        }
      }
      log('stopping the server (SIGTERM) and the inference service');
      const exit = await server.stop();
      await inference.stop();
      await rm(dir, { recursive: true, force: true });
      await rm(archiveDir, { recursive: true, force: true });

      const minutesRun = Math.round((elapsed() / 60) * 100) / 100;
      const report: SoakReportInput = {
        minutes: o.minutes,
        interrupted,
        machine: `${machineLine(machine)}; load average at start ${machine.loadAverage.join(' ')}`,
        date: machine.date,
        settings: {
          minutesRun,
          server: serverRuntime,
          seed: o.seed,
          displays: `${o.minDisplays}-${o.maxDisplays}`,
          canvases: slugs,
          sampleSeconds: o.sampleSeconds,
          inferenceLatencyMs: o.inferenceLatencyMs,
          cacheMb: o.cacheMb,
          folderEverySeconds: o.folderEvery,
          archiveMb: o.archiveMb ?? 'default (4096)',
          allocator,
        },
        samples,
        verdict: rssVerdict(samples, o.flatMbPerMinute),
        memory: memoryVerdict(samples, o.flatMbPerMinute, o.cacheMb),
        swarm: swarm.stats,
        churn: { ...churn.counts },
        inference: { ...inferenceStats, events: events.filter((e) => e.what.startsWith('inference')) },
        server: {
          logWarnings: server.logs.warn,
          logErrors: server.logs.error,
          logMessages: server.logs.byMessage,
          displaysAfterClose,
          exit: diedEarly ? null : { code: exit.code, signal: exit.signal, killed: exit.killed, ms: exit.ms },
          diedEarly,
        },
        events,
      };
      const name = `soak-${o.minutes}m`;
      await mkdir(o.outDir, { recursive: true });
      await writeFile(path.join(o.outDir, `${name}.json`), `${JSON.stringify(soakJson(report), null, 2)}\n`);
      const markdown = soakMarkdown(report);
      await writeFile(path.join(o.outDir, `${name}.md`), markdown);
      process.stdout.write(markdown);
      process.stderr.write(`Wrote ${path.relative(PROJECT_ROOT, o.outDir) || '.'}/${name}.{json,md}\n`);
      const errors = Object.keys(report.swarm.errors).length + Object.keys(report.swarm.unexpectedCloses).length;
      const failures = [
        ...(diedEarly ? [`the server ${diedEarly}`] : []),
        ...(report.memory.ok ? [] : [report.memory.reason]),
        ...(errors > 0 ? [`${errors} kinds of display errors or unexpected closes`] : []),
        ...(report.swarm.gaps.length > 0 ? [`${report.swarm.gaps.length} gaps over two slots`] : []),
      ];
      process.stderr.write(failures.length ? `Soak FAILED: ${failures.join('; ')}\n` : `Soak passed: ${report.memory.reason}\n`);
      return failures.length ? 1 : 0;
    })());
  onInterrupt(async () => {
    await finish(true);
  });

  log(`running for ${o.minutes} min with ${o.minDisplays}-${o.maxDisplays} displays`);
  await done;
  return finish(false);
}

process.exitCode = await main();
