/**
 * What archiving costs a running server: the real server as its own process with N canvases
 * generating from the dev inference service (its own process too) at 4 FPS, one display per
 * canvas, in alternated phases of equal length with the archive OFF (`EASEL_ARCHIVE_DIR=""`) and
 * ON (a temporary folder): off, on, off, on, so a drift of the busy box falls on both kinds.
 * Per phase: frames archived, server CPU (from /proc), pacing as the displays saw it (arrival
 * minus slot, interval minus period) and as the server timed its slots, held/skipped counters.
 * ON includes the proof-of-play log (one line per frame shown), which the archive switch turns
 * on with it. A measurement, not a test.
 *
 *   npm run bench:archive-pacing -- [--seconds 60] [--rounds 2] [--canvases 8] [--quick]
 *     [--latency-ms 207] [--server build|tsx] [--out-dir bench/results]
 *
 * Writes <out-dir>/archive-pacing.{md,json}. `--quick`: 15 s phases, one round (off, on).
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { decodeFrameMessage, EASEL_SUBPROTOCOL } from '../../protocol/wire.js';
import {
  archivePacingMarkdown,
  archivePacingSummary,
  type ArchivePacingResult,
  type PhaseResult,
} from './support/archive-pacing-report.js';
import { metricsDelta, pacingFigures, readMetrics, type Arrival } from './support/archive-pacing-stats.js';
import { PROJECT_ROOT, spawnTs, stopChild } from './support/children.js';
import { machineInfo } from './support/machine.js';
import { epochNow, sleep } from './support/main-module.js';
import { busyPercentOfOneCore, systemCpu } from './support/proc.js';
import { chooseServerRuntime, startServerProcess } from './support/server-process.js';

const log = (line: string) => process.stderr.write(`${line}\n`);
const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    canvases: { type: 'string', default: '8' },
    'latency-ms': { type: 'string', default: '207' },
    server: { type: 'string', default: 'build' },
    'out-dir': { type: 'string', default: 'bench/results' },
  },
  strict: true,
});
const positive = (name: string, text: string) => {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`Invalid --${name} "${text}": expected a positive integer`);
  return n;
};
const SECONDS = positive('seconds', values.seconds ?? (values.quick ? '15' : '60'));
const ROUNDS = positive('rounds', values.rounds ?? (values.quick ? '1' : '2'));
const CANVASES = positive('canvases', values.canvases);
const LATENCY_MS = positive('latency-ms', values['latency-ms']);
if (values.server !== 'build' && values.server !== 'tsx') throw new Error(`Invalid --server "${values.server}": expected build or tsx`);
const PERIOD_MS = 250;
const WARMUP_FRAMES = 12;
const SLUGS = Array.from({ length: CANVASES }, (_, i) => `gen-${i + 1}`);
const PROMPTS = ['a foggy harbour at dawn', 'a neon alley in the rain', 'an orchard in snow', 'a lighthouse at dusk'];

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** The dev inference service as its own process, so its drawing is not charged to the server or the displays. */
async function startInference() {
  const port = await freePort();
  const child = spawnTs(path.join(PROJECT_ROOT, 'tools/inference-dev.ts'), ['--port', String(port), '--latency-ms', String(LATENCY_MS)]);
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`The dev inference service did not start:\n${out}`)), 60_000);
    const seen = (c: Buffer) => {
      out = (out + c.toString()).slice(-4000);
      if (/Point Easel at it/.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', seen);
    child.stderr!.on('data', seen);
    child.once('exit', (code) => reject(new Error(`The dev inference service exited (code ${code}):\n${out}`)));
  });
  return { address: `127.0.0.1:${port}`, stop: () => stopChild(child) };
}

/** One display: records each frame's arrival against its slot, keeps no image. */
function openDisplay(url: string) {
  const frames: Arrival[] = [];
  let leadMs = 0;
  let recording = false;
  const socket = new WebSocket(url, [EASEL_SUBPROTOCOL], { perMessageDeflate: false });
  socket.on('message', (data: Buffer, isBinary) => {
    const at = epochNow();
    if (!isBinary) {
      const msg = JSON.parse(data.toString('utf8')) as { type?: string; leadMs?: number };
      if (msg.type === 'hello') leadMs = msg.leadMs ?? 0;
      return;
    }
    if (!recording) return;
    const { header } = decodeFrameMessage(data);
    const presentAt = header.presentAt ?? Number.NaN;
    const slot = Number.isNaN(presentAt) ? Date.parse(header.timestamp) : presentAt - leadMs;
    frames.push({ at, slot, presentAt, seq: header.seq });
  });
  const opened = new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  return {
    opened,
    frames,
    record: (on: boolean) => (recording = on),
    close: () => socket.terminate(),
  };
}

async function scrape(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/metrics`);
  if (!res.ok) throw new Error(`GET /metrics answered ${res.status}`);
  return res.text();
}

/** Images and play-log lines in an archive folder after a phase. */
function countArchive(dir: string): { images: number; playLines: number } {
  let images = 0;
  let playLines = 0;
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const full = path.join(entry.parentPath, entry.name);
    if (full.includes(`${path.sep}.thumbs${path.sep}`)) continue;
    if (/\.(png|jpe?g|webp)$/.test(entry.name)) images++;
    else if (entry.name.endsWith('.jsonl') && entry.parentPath.endsWith(`${path.sep}plays`)) {
      playLines += readFileSync(full, 'utf8').split('\n').filter(Boolean).length;
    }
  }
  return { images, playLines };
}

async function runPhase(archive: boolean, index: number, entry: string | undefined, inference: string): Promise<PhaseResult> {
  const dir = archive ? mkdtempSync(path.join(os.tmpdir(), 'easel-bench-archive-pacing-')) : '';
  log(`phase ${index + 1}: archive ${archive ? `ON (${dir})` : 'OFF'}, ${SECONDS} s`);
  const server = await startServerProcess({
    ...(entry ? { entry } : {}),
    canvases: SLUGS.map((slug, i) => ({ slug, source: { type: 'inference', prompt: PROMPTS[i % PROMPTS.length], seed: 1000 + i } })),
    env: { EASEL_INFERENCE_ENDPOINTS: inference, EASEL_ARCHIVE_DIR: dir },
  });
  const displays = SLUGS.map((slug) => openDisplay(server.wsUrl(slug)));
  let result: PhaseResult | undefined;
  try {
    await Promise.all(displays.map((d) => d.opened));
    await server.waitForPublished(SLUGS, WARMUP_FRAMES, 120_000);
    await sleep(2000);
    const load0 = os.loadavg()[0]!;
    const [m0, c0, s0, sys0] = [readMetrics(await scrape(server.port)), await server.counters(), server.stat(), systemCpu()];
    const t0 = performance.now();
    for (const d of displays) d.record(true);
    await sleep(SECONDS * 1000);
    for (const d of displays) d.record(false);
    const seconds = (performance.now() - t0) / 1000;
    const [m1, c1, s1, sys1] = [readMetrics(await scrape(server.port)), await server.counters(), server.stat(), systemCpu()];
    const metrics = metricsDelta(m0, m1);
    const cpuSeconds = s1.cpuSeconds - s0.cpuSeconds;
    result = {
      archive,
      seconds,
      cpuSeconds,
      cpuPercent: (100 * cpuSeconds) / seconds,
      rssMb: Math.round(s1.rssMb),
      boxBusyPercent: Math.round(busyPercentOfOneCore(sys0, sys1)),
      loadAverage: [load0, os.loadavg()[0]!].map((l) => Math.round(l * 100) / 100),
      archived: metrics.archiveWritten ?? 0,
      metrics,
      published: c1.published - c0.published,
      held: c1.held - c0.held,
      skippedSends: c1.skippedSends - c0.skippedSends,
      pacing: pacingFigures(
        displays.map((d) => d.frames),
        PERIOD_MS,
      ),
      serverLogs: { warn: 0, error: 0, byMessage: {} }, // filled in after the stop, which may log too
      folder: null,
    };
  } finally {
    for (const d of displays) d.close();
    await server.stop();
    if (result) result.serverLogs = structuredClone(server.logs);
    // Counted after the stop, so every write the phase started has landed; the whole archive, warm-up included.
    if (archive) {
      if (result) result.folder = countArchive(dir);
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return result!;
}

async function main() {
  const machine = machineInfo();
  const { entry, runtime } = await chooseServerRuntime(values.server as 'build' | 'tsx');
  log(`server: ${runtime}`);
  const inference = await startInference();
  const phases: PhaseResult[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (const archive of [false, true]) {
        const phase = await runPhase(archive, phases.length, entry, inference.address);
        phases.push(phase);
        log(
          `  ${phase.archived} archived, CPU ${phase.cpuPercent.toFixed(1)}% of a core, lateness p95 ${phase.pacing.latenessMs.p95} ms, load ${phase.loadAverage.join(' → ')}`,
        );
      }
    }
  } finally {
    await inference.stop();
  }
  const result: ArchivePacingResult = {
    machine,
    runtime,
    canvases: CANVASES,
    fps: 1000 / PERIOD_MS,
    latencyMs: LATENCY_MS,
    secondsPerPhase: SECONDS,
    rounds: ROUNDS,
    phases,
    endLoadAverage: os.loadavg().map((l) => Math.round(l * 100) / 100),
  };
  const outDir = path.resolve(PROJECT_ROOT, values['out-dir']);
  await mkdir(outDir, { recursive: true });
  const markdown = archivePacingMarkdown(result);
  await writeFile(path.join(outDir, 'archive-pacing.md'), markdown);
  await writeFile(
    path.join(outDir, 'archive-pacing.json'),
    `${JSON.stringify({ ...result, summary: archivePacingSummary(result) }, null, 2)}\n`,
  );
  process.stdout.write(markdown);
  log(`Wrote ${path.relative(PROJECT_ROOT, outDir)}/archive-pacing.{md,json}`);
}

await main();
process.exit(0);
