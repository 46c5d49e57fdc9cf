/**
 * Fan-out benchmark: starts the real server as its own process, opens N displays over several
 * canvases from this (separate) process with the `ws` package, and reports what the displays
 * saw — delivered FPS, inter-frame intervals, bytes per frame — and what the server spent: CPU
 * seconds (from /proc) per 1,000 delivered frames and peak RSS. A measurement, not a test.
 *
 *   npx tsx tools/bench/fanout.ts --displays 100 --canvases 2 --seconds 60
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { PROJECT_ROOT } from '../../server/config.js';

const { values } = parseArgs({
  options: {
    displays: { type: 'string', default: '100' },
    canvases: { type: 'string', default: '2' },
    seconds: { type: 'string', default: '60' },
    warmup: { type: 'string', default: '5' },
    out: { type: 'string', default: 'fanout' },
  },
});
const displays = Number(values.displays);
const canvases = Number(values.canvases);
const seconds = Number(values.seconds);
const warmupSeconds = Number(values.warmup);
const TICKS = 100; // USER_HZ on Linux

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : NaN;

function procStat(pid: number) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS;
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  return { cpuSeconds, rssMb: rssKb / 1024 };
}

async function startServer(): Promise<{ pid: number; port: number; stop: () => void }> {
  const slugs = Array.from({ length: canvases }, (_, i) => ({ slug: `bench-${i}` }));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'server/main.ts')], {
    cwd: PROJECT_ROOT,
    env: {
      ...process.env,
      EASEL_PORT: '0',
      EASEL_HOST: '127.0.0.1',
      EASEL_LOG_PRETTY: 'false',
      EASEL_STATE_FILE: '',
      EASEL_ARCHIVE_DIR: '',
      EASEL_CANVASES: JSON.stringify(slugs),
      NODE_ENV: 'production',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (c: Buffer) => {
      buf += c.toString();
      const m = /"port":(\d+),.*Easel is streaming/.exec(buf);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  return { pid: child.pid!, port, stop: () => child.kill('SIGTERM') };
}

interface Probe {
  arrivals: number[];
  bytes: number;
}

async function main() {
  const server = await startServer();
  const probes: Probe[] = [];
  const sockets: WebSocket[] = [];
  for (let i = 0; i < displays; i++) {
    const probe: Probe = { arrivals: [], bytes: 0 };
    probes.push(probe);
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws/bench-${i % canvases}?format=binary`);
    ws.on('message', (data: Buffer, isBinary) => {
      if (!isBinary) return;
      probe.arrivals.push(performance.now());
      probe.bytes += data.length;
    });
    sockets.push(ws);
    if (i % 50 === 49) await new Promise((r) => setTimeout(r, 20)); // do not look like a flood
  }
  await new Promise((r) => setTimeout(r, warmupSeconds * 1000));

  const start = performance.now();
  const before = procStat(server.pid);
  let peakRss = before.rssMb;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, procStat(server.pid).rssMb)), 1000);
  await new Promise((r) => setTimeout(r, seconds * 1000));
  const end = performance.now();
  const after = procStat(server.pid);
  clearInterval(sampler);
  peakRss = Math.max(peakRss, after.rssMb);

  const fps: number[] = [];
  const intervals: number[] = [];
  let frames = 0;
  let bytes = 0;
  for (const p of probes) {
    const inWindow = p.arrivals.filter((t) => t >= start && t < end);
    fps.push(inWindow.length / ((end - start) / 1000));
    frames += inWindow.length;
    for (let i = 1; i < inWindow.length; i++) intervals.push(inWindow[i]! - inWindow[i - 1]!);
    bytes += p.bytes;
  }
  fps.sort((a, b) => a - b);
  intervals.sort((a, b) => a - b);
  const cpu = after.cpuSeconds - before.cpuSeconds;
  const result = {
    machine: `${os.cpus()[0]?.model} x${os.cpus().length}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
    date: new Date().toISOString(),
    displays,
    canvases,
    windowSeconds: seconds,
    fps: { min: fps[0], p1: percentile(fps, 1), median: percentile(fps, 50), max: fps.at(-1) },
    displaysAt3_8: fps.filter((f) => f >= 3.8).length / fps.length,
    intervalMs: { p1: percentile(intervals, 1), p50: percentile(intervals, 50), p99: percentile(intervals, 99), max: intervals.at(-1) },
    bytesPerFrame: Math.round(
      bytes /
        Math.max(
          1,
          probes.reduce((n, p) => n + p.arrivals.length, 0),
        ),
    ),
    server: {
      cpuSeconds: cpu,
      cpuPercentOfOneCore: (100 * cpu) / ((end - start) / 1000),
      cpuSecondsPer1000Frames: (1000 * cpu) / Math.max(1, frames),
      rssMbStart: before.rssMb,
      rssMbPeak: peakRss,
    },
  };
  for (const ws of sockets) ws.close();
  server.stop();
  const text = JSON.stringify(result, null, 2);
  process.stdout.write(`${text}\n`);
  const dir = path.join(PROJECT_ROOT, 'bench/results');
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, `${values.out}.json`), `${text}\n`);
}

await main();
