/**
 * Cluster fan-out benchmark (issue 12): a real redis-server and 1, 2, 3 Easel nodes on this box,
 * displays (the `ws` package, protocol v2) spread evenly over the nodes and the canvases. For
 * each node count it measures delivered FPS per display, how far apart one frame (seq) reached
 * displays on different nodes (arrival) and what presentAt each got, the bytes through Redis per
 * canvas (INFO total_net_*_bytes deltas, and the size of each frame message on the relay
 * channels), and the CPU of each node and of Redis from /proc. A measurement, not a test.
 *
 *   npx tsx tools/bench/cluster-fanout.ts [--quick] [--nodes 1,2,3] [--displays 150] [--canvases 3]
 *     [--seconds 30] [--warmup 5] [--workers 2] [--server build|tsx] [--out-dir bench/results]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT, exited, stopChild } from './support/children.js';
import { cpuOf, placed, startBenchRedis, startNode, type ClusterNode } from './support/cluster-rig.js';
import { clusterFanoutMarkdown, type ClusterFanoutCase, type ClusterFanoutResult } from './support/cluster-fanout-report.js';
import { seqSpreads, windowFps } from './support/cluster-stats.js';
import type { DisplayPlan, DisplayRecord, ToClient } from './support/fanout-protocol.js';
import { request, startLoadClient } from './support/load-clients.js';
import { machineInfo, machineLine } from './support/machine.js';
import { epochNow, isMain, sleep } from './support/main-module.js';
import { busyPercentOfOneCore, systemCpu } from './support/proc.js';
import { chooseServerRuntime } from './support/server-process.js';
import { round, roundSummary, summarize } from './support/stats.js';

export interface ClusterFanoutOptions {
  nodeCounts: number[];
  displays: number;
  canvases: number;
  windowSeconds: number;
  warmupSeconds: number;
  workers: number;
  leaseMs: number;
  server: 'build' | 'tsx';
  log: (line: string) => void;
}

async function runCase(n: number, o: ClusterFanoutOptions, entry: string | undefined): Promise<ClusterFanoutCase> {
  const slugs = Array.from({ length: o.canvases }, (_, i) => `cluster-${i}`);
  const redis = await startBenchRedis();
  const nodes: ClusterNode[] = [];
  const clients: Awaited<ReturnType<typeof startLoadClient>>[] = [];
  try {
    nodes.push(
      ...(await Promise.all(
        Array.from({ length: n }, (_, i) => startNode({ id: `node-${i + 1}`, redisUrl: redis.url, slugs, leaseMs: o.leaseMs, entry })),
      )),
    );
    const owners = await placed(nodes, slugs);
    // One loop of the 12 bundled images on every node: the owners' rendition caches are warm.
    await Promise.all(nodes.map((node) => node.server.waitForPublished(slugs, 13, 120_000)));
    clients.push(...(await Promise.all(Array.from({ length: o.workers }, () => startLoadClient()))));

    // Display i on node i mod n, canvases in turn within each node, so every node has every canvas.
    const nodeOf = (i: number) => i % n;
    const plans: DisplayPlan[][] = clients.map(() => []);
    for (let i = 0; i < o.displays; i++) {
      const canvas = Math.floor(i / n) % o.canvases;
      plans[i % o.workers]!.push({ index: i, canvas, url: nodes[nodeOf(i)]!.server.wsUrl(slugs[canvas]!) });
    }
    const opened = await Promise.all(
      clients.map((c, i) => request(c, { type: 'open', displays: plans[i]!, batch: 50, openTimeoutMs: 15_000 }, 'opened', 120_000)),
    );
    const openedCount = opened.reduce((s, r) => s + r.opened, 0);
    o.log(`  ${openedCount}/${o.displays} displays open; warming up ${o.warmupSeconds} s`);
    await sleep(o.warmupSeconds * 1000);

    // The harness listens to the relay channels too, to size each frame message; what Redis sent
    // it is taken off Redis's output below, so the figures are the cluster's own.
    const listener = redis.client.duplicate();
    const relayed = new Map<string, { messages: number; bytes: number }>();
    let listenerBytes = 0;
    let measuring = false;
    listener.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => {
      if (!measuring) return;
      const slug = channel.toString().slice('easel:frames:'.length);
      const c = relayed.get(slug) ?? { messages: 0, bytes: 0 };
      c.messages++;
      c.bytes += message.length;
      relayed.set(slug, c);
      listenerBytes += message.length + 2 * channel.length + 64;
    });
    await listener.psubscribe('easel:frames:*');

    const nodePids = nodes.map((node) => node.server.pid);
    const clientPids = clients.map((c) => c.pid!);
    measuring = true;
    const windowStart = epochNow();
    const [r0, n0, c0, sys0] = [await redis.read(), cpuOf(nodePids), cpuOf(clientPids), systemCpu()];
    await sleep(o.windowSeconds * 1000);
    const windowEnd = epochNow();
    const [r1, n1, c1, sys1] = [await redis.read(), cpuOf(nodePids), cpuOf(clientPids), systemCpu()];
    measuring = false;
    listener.disconnect();
    const seconds = (windowEnd - windowStart) / 1000;
    const pct = (cpu: number) => round((100 * cpu) / seconds);

    const reports = await Promise.all(clients.map((c) => request(c, { type: 'report' }, 'report', 60_000)));
    const records: DisplayRecord[] = reports.flatMap((r) => r.displays).filter((r) => r.opened);
    const fps = records.map((r) => windowFps(r.at, windowStart, windowEnd));
    const spreads = slugs.map((_, canvas) =>
      seqSpreads(
        records.filter((r) => r.canvas === canvas).map((r) => ({ group: String(nodeOf(r.index)), ...r })),
        windowStart,
        windowEnd,
      ),
    );
    const all = (key: 'arrivalMs' | 'groupMedianMs' | 'presentAtMs') => roundSummary(summarize(spreads.flatMap((s) => s[key])));
    const netIn = (r1.netInBytes - r0.netInBytes) / seconds;
    const netOut = (r1.netOutBytes - r0.netOutBytes - listenerBytes) / seconds;
    const messages = [...relayed.values()].reduce((s, c) => s + c.messages, 0);
    const messageBytes = [...relayed.values()].reduce((s, c) => s + c.bytes, 0);
    const nodeCpu = n1.map((c, i) => c - n0[i]!);
    const clientCpu = c1.map((c, i) => c - c0[i]!).reduce((a, b) => a + b, 0);
    const box = busyPercentOfOneCore(sys0, sys1);
    const redisCpu = pct(r1.cpuSeconds - r0.cpuSeconds);
    return {
      nodes: n,
      displays: o.displays,
      opened: openedCount,
      canvases: o.canvases,
      windowSeconds: round(seconds, 2),
      fps: roundSummary(summarize(fps), 3),
      seqsCompared: spreads.reduce((s, x) => s + x.seqs, 0),
      arrivalSpreadMs: all('arrivalMs'),
      crossNodeSpreadMs: all('groupMedianMs'),
      presentAtSpreadMs: all('presentAtMs'),
      redis: {
        inBytesPerSecond: Math.round(netIn),
        outBytesPerSecond: Math.round(netOut),
        inBytesPerSecondPerCanvas: Math.round(netIn / o.canvases),
        outBytesPerSecondPerCanvas: Math.round(netOut / o.canvases),
        frameMessagesPerSecond: round(messages / seconds, 2),
        bytesPerFrameMessage: messages ? Math.round(messageBytes / messages) : null,
        cpuPercentOfOneCore: redisCpu,
      },
      perNode: nodes.map((node, i) => ({
        id: node.id,
        owns: slugs.filter((s) => owners.get(s) === node.id),
        displays: records.filter((r) => nodeOf(r.index) === i).length,
        cpuPercentOfOneCore: pct(nodeCpu[i]!),
        logWarnings: node.server.logs.warn,
        logErrors: node.server.logs.error,
      })),
      clientsCpuPercentOfOneCore: pct(clientCpu),
      box: {
        busyPercentOfOneCore: round(box),
        otherPercentOfOneCore: round(box - nodeCpu.reduce((a, b) => a + pct(b), 0) - redisCpu - pct(clientCpu)),
      },
    };
  } finally {
    for (const c of clients) if (c.connected) c.send({ type: 'close' } satisfies ToClient);
    await Promise.all(clients.map((c) => Promise.race([exited(c), sleep(3000).then(() => stopChild(c, 1000))])));
    await Promise.all(nodes.map((node) => node.server.stop()));
    await redis.stop();
  }
}

export async function runClusterFanout(o: ClusterFanoutOptions): Promise<ClusterFanoutResult> {
  const machine = machineInfo();
  o.log(`Cluster fan-out on ${machineLine(machine)}; load average ${machine.loadAverage.join(' ')}`);
  const { entry, runtime: serverRuntime } = await chooseServerRuntime(o.server);
  const cases: ClusterFanoutCase[] = [];
  const errors: Record<string, string> = {};
  for (const n of o.nodeCounts) {
    o.log(`${n} node(s): ${o.displays} displays over ${o.canvases} canvases, ${o.windowSeconds} s window`);
    try {
      const c = await runCase(n, o, entry);
      cases.push(c);
      o.log(
        `  fps median ${c.fps.p50} min ${c.fps.min}; cross-node p50 ${c.crossNodeSpreadMs.p50} ms max ${c.crossNodeSpreadMs.max} ms; ` +
          `presentAt max ${c.presentAtSpreadMs.max} ms; Redis ${Math.round(c.redis.outBytesPerSecondPerCanvas / 1024)} KiB/s out per canvas; ` +
          `node CPU ${c.perNode.map((p) => `${p.cpuPercentOfOneCore} %`).join(', ')}; Redis ${c.redis.cpuPercentOfOneCore} %`,
      );
    } catch (err) {
      errors[String(n)] = (err as Error).message;
      o.log(`  failed: ${(err as Error).message}`);
    }
  }
  const { log: _log, ...options } = o;
  return { machine, serverRuntime, options, cases, errors };
}

export function parseClusterFanoutArgs(argv: string[]): ClusterFanoutOptions & { outDir: string } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      nodes: { type: 'string', default: '1,2,3' },
      displays: { type: 'string', default: '150' },
      canvases: { type: 'string', default: '3' },
      seconds: { type: 'string' },
      warmup: { type: 'string' },
      workers: { type: 'string', default: '2' },
      'lease-ms': { type: 'string', default: '3000' },
      server: { type: 'string', default: 'build' },
      'out-dir': { type: 'string' },
    },
    strict: true,
  });
  const whole = (name: string, raw: string) => {
    const v = Number(raw);
    if (!Number.isInteger(v) || v < 1) throw new Error(`Invalid --${name} "${raw}": expected a whole number ≥ 1`);
    return v;
  };
  if (values.server !== 'build' && values.server !== 'tsx') throw new Error(`Invalid --server "${values.server}": expected build or tsx`);
  const quick = values.quick;
  return {
    nodeCounts: values.nodes.split(',').map((s) => whole('nodes', s.trim())),
    displays: whole('displays', values.displays),
    canvases: whole('canvases', values.canvases),
    windowSeconds: whole('seconds', values.seconds ?? (quick ? '10' : '30')),
    warmupSeconds: whole('warmup', values.warmup ?? (quick ? '3' : '5')),
    workers: whole('workers', values.workers),
    leaseMs: whole('lease-ms', values['lease-ms']),
    server: values.server,
    outDir: path.resolve(PROJECT_ROOT, values['out-dir'] ?? (quick ? 'bench/results/quick' : 'bench/results')),
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

export async function writeClusterFanout(r: ClusterFanoutResult, outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'cluster-fanout.json'), `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(path.join(outDir, 'cluster-fanout.md'), clusterFanoutMarkdown(r));
}

if (isMain(import.meta.url)) {
  let options: ReturnType<typeof parseClusterFanoutArgs>;
  try {
    options = parseClusterFanoutArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const { outDir, ...o } = options;
  const result = await runClusterFanout(o);
  await writeClusterFanout(result, outDir);
  process.stdout.write(clusterFanoutMarkdown(result));
  process.exitCode = Object.keys(result.errors).length ? 1 : 0;
}
