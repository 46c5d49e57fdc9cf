/**
 * Cluster failover benchmark (issue 12): a real redis-server, 3 Easel nodes on this box and
 * displays on each. Again and again: find the node producing the canvas (GET /api/cluster),
 * kill -9 it, and measure on the displays of the surviving nodes the hole in their frames (from
 * the last frame before the outage to the first after it), then start a node in its place with
 * displays of its own, so there are 3 again. Over the whole run every display's `seq` must rise
 * and its `presentAt` must never go back; violations are counted. A measurement, not a test.
 *
 *   npx tsx tools/bench/cluster-failover.ts [--quick] [--kills 10] [--lease-ms 3000,1500]
 *     [--displays-per-node 10] [--server build|tsx] [--out-dir bench/results]
 *
 * `--append` keeps the other leases of an earlier run in cluster-failover.{json,md}, so each lease
 * can run on its own (about 3–4 min each on a busy 2-core box).
 *
 * BENCH_DUMP=<file> also writes the kills and every display's raw seqs and arrivals there, to check a figure by hand.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { PROJECT_ROOT, exited, stopChild } from './support/children.js';
import {
  clusterFailoverMarkdown,
  mergeFailover,
  summariseKills,
  type FailoverKill,
  type FailoverLeaseResult,
  type FailoverResult,
} from './support/cluster-failover-report.js';
import { lastSeq, placed, startBenchRedis, startNode, until, type ClusterNode } from './support/cluster-rig.js';
import { longestInterval, orderViolations, outageGap } from './support/cluster-stats.js';
import type { DisplayPlan, DisplayRecord, ToClient } from './support/fanout-protocol.js';
import { request, startLoadClient } from './support/load-clients.js';
import { machineInfo, machineLine } from './support/machine.js';
import { epochNow, isMain, sleep } from './support/main-module.js';
import { chooseServerRuntime } from './support/server-process.js';
import { round } from './support/stats.js';

export interface FailoverOptions {
  kills: number;
  leases: number[];
  displaysPerNode: number;
  server: 'build' | 'tsx';
  log: (line: string) => void;
}

const SLUG = 'failover';
/** A display whose frames have not come back this long after the kill counts as never resumed. */
const HORIZON_MS = 30_000;

async function runLease(leaseMs: number, o: FailoverOptions, entry: string | undefined): Promise<FailoverLeaseResult> {
  const redis = await startBenchRedis();
  const nodes: ClusterNode[] = [];
  const client = await startLoadClient();
  const nodeOfDisplay = new Map<number, string>();
  let nextIndex = 0;
  const openOn = async (node: ClusterNode) => {
    const displays: DisplayPlan[] = Array.from({ length: o.displaysPerNode }, () => {
      const index = nextIndex++;
      nodeOfDisplay.set(index, node.id);
      return { index, canvas: 0, url: node.server.wsUrl(SLUG) };
    });
    const r = await request(client, { type: 'open', displays, batch: 50, openTimeoutMs: 15_000 }, 'opened', 60_000);
    if (r.failed) o.log(`  ${r.failed} displays on ${node.id} did not open`);
  };
  const start = (id: string) => startNode({ id, redisUrl: redis.url, slugs: [SLUG], leaseMs, entry });
  const killPlans: Array<
    Pick<FailoverKill, 'kill' | 'killed' | 'newOwner' | 'seenResumedMs'> & {
      at: number;
      watched: number[];
    }
  > = [];
  try {
    nodes.push(...(await Promise.all([1, 2, 3].map((i) => start(`node-${i}`)))));
    await placed(nodes, [SLUG]);
    await Promise.all(nodes.map((n) => n.server.waitForPublished([SLUG], 13, 120_000)));
    for (const node of nodes) await openOn(node);
    await sleep(3000);

    const t0 = performance.now();
    for (let k = 1; k <= o.kills; k++) {
      // Frames flowing on every node before each kill: a kill during the previous recovery would measure that.
      const base = await Promise.all(nodes.map((n) => lastSeq(n, SLUG)));
      await until(
        'frames on every node',
        async () => ((await Promise.all(nodes.map((n) => lastSeq(n, SLUG)))).every((s, i) => s >= base[i]! + 2) ? true : undefined),
        30_000,
        100,
      );
      const ownerId = (await placed(nodes, [SLUG])).get(SLUG)!;
      const slot = nodes.findIndex((n) => n.id === ownerId);
      const owner = nodes[slot]!;
      const survivors = nodes.filter((n) => n !== owner);
      const seqBefore = Math.max(...(await Promise.all(survivors.map((n) => lastSeq(n, SLUG)))));
      const watched = [...nodeOfDisplay].filter(([, id]) => id !== ownerId && survivors.some((s) => s.id === id)).map(([i]) => i);
      const at = epochNow();
      owner.server.child.kill('SIGKILL');
      await exited(owner.server.child);
      // A frame may have been in flight from the dead owner: two more mean the new owner is producing.
      await until(
        'frames after the kill',
        async () => ((await Promise.all(survivors.map((n) => lastSeq(n, SLUG)))).every((s) => s >= seqBefore + 2) ? true : undefined),
        HORIZON_MS,
        50,
      );
      const seenResumedMs = round(epochNow() - at);
      const newOwner = (await placed(survivors, [SLUG])).get(SLUG)!;
      o.log(
        `  kill ${k} (${Math.round((performance.now() - t0) / 1000)} s): ${ownerId} killed, ${newOwner} took ${SLUG}; frames seen again on both survivors after ~${seenResumedMs} ms`,
      );
      killPlans.push({ kill: k, at, killed: ownerId, newOwner, seenResumedMs, watched });
      nodes[slot] = await start(`node-${slot + 1}-r${k}`);
      await openOn(nodes[slot]!);
      await placed(nodes, [SLUG]);
    }
    await sleep(2000);

    const report = await request(client, { type: 'report' }, 'report', 60_000);
    if (process.env.BENCH_DUMP)
      await writeFile(
        process.env.BENCH_DUMP,
        JSON.stringify({
          kills: killPlans,
          nodeOfDisplay: [...nodeOfDisplay],
          displays: report.displays.map((d) => ({ index: d.index, seqs: [...d.seqs], at: [...d.at] })),
        }),
      );
    const byIndex = new Map<number, DisplayRecord>(report.displays.map((d) => [d.index, d]));
    const kills: FailoverKill[] = killPlans.map(({ at, watched, ...plan }, i) => {
      // Up to the next kill at most, so its hole is never taken for this one's.
      const horizon = Math.min(HORIZON_MS, (killPlans[i + 1]?.at ?? Number.POSITIVE_INFINITY) - at);
      const records = watched.map((d) => byIndex.get(d)).filter((d) => d !== undefined);
      const gaps = records.map((d) => outageGap(d.at, d.seqs, at, horizon));
      const got = gaps.filter((g) => g !== undefined);
      // Holes after the failover and before the next kill: the canvas should have stayed put.
      const until = killPlans[i + 1]?.at ?? Number.POSITIVE_INFINITY;
      const later = records.flatMap((d, j) => (gaps[j] ? [longestInterval(d.at, at + gaps[j].killToResumeMs, until)] : []));
      const stuck = watched.filter((_, j) => gaps[j] === undefined);
      const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? Number.NaN;
      return {
        ...plan,
        displays: gaps.length,
        neverResumed: gaps.length - got.length,
        neverResumedOn: [...new Set(stuck.map((d) => nodeOfDisplay.get(d)!))],
        gapMs: round(med(got.map((g) => g.gapMs))),
        worstGapMs: round(Math.max(...got.map((g) => g.gapMs))),
        killToResumeMs: round(med(got.map((g) => g.killToResumeMs))),
        seqJump: med(got.map((g) => g.seqJump)),
        laterHoleMs: round(med(later)),
      };
    });
    const violations = { seqNotRising: 0, presentAtBackwards: 0 };
    for (const d of report.displays) {
      const v = orderViolations(d.seqs, d.presentAt);
      violations.seqNotRising += v.seqNotRising;
      violations.presentAtBackwards += v.presentAtBackwards;
    }
    return {
      leaseMs,
      statedBoundMs: leaseMs + Math.floor(leaseMs / 3),
      displays: report.displays.length,
      kills,
      summary: summariseKills(kills),
      violations,
      nodeLogs: nodes.map((n) => ({ id: n.id, warn: n.server.logs.warn, error: n.server.logs.error, messages: n.server.logs.byMessage })),
    };
  } finally {
    if (client.connected) client.send({ type: 'close' } satisfies ToClient);
    await Promise.race([exited(client), sleep(3000).then(() => stopChild(client, 1000))]);
    await Promise.all(nodes.map((n) => n.server.stop()));
    await redis.stop();
  }
}

export async function runFailover(o: FailoverOptions): Promise<FailoverResult> {
  const machine = machineInfo();
  o.log(`Cluster failover on ${machineLine(machine)}; load average ${machine.loadAverage.join(' ')}`);
  const { entry, runtime: serverRuntime } = await chooseServerRuntime(o.server);
  const leases: FailoverLeaseResult[] = [];
  const errors: Record<string, string> = {};
  for (const leaseMs of o.leases) {
    o.log(`Lease ${leaseMs} ms: ${o.kills} kills, 3 nodes, ${o.displaysPerNode} displays per node`);
    try {
      const r = await runLease(leaseMs, o, entry);
      leases.push(r);
      o.log(
        `  gap median ${r.summary.gapMs.p50} ms, p90 ${r.summary.gapMs.p90} ms, max ${r.summary.gapMs.max} ms; violations ${JSON.stringify(r.violations)}`,
      );
    } catch (err) {
      errors[String(leaseMs)] = (err as Error).message;
      o.log(`  failed: ${(err as Error).message}`);
    }
  }
  const { log: _log, ...options } = o;
  return { machine, serverRuntime, options, leases, errors, loadAverageEnd: os.loadavg().map((l) => round(l, 2)) };
}

export function parseFailoverArgs(argv: string[]): FailoverOptions & { outDir: string; append: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      kills: { type: 'string' },
      'lease-ms': { type: 'string' },
      'displays-per-node': { type: 'string', default: '10' },
      server: { type: 'string', default: 'build' },
      'out-dir': { type: 'string' },
      append: { type: 'boolean', default: false },
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
    kills: whole('kills', values.kills ?? (quick ? '3' : '10')),
    leases: (values['lease-ms'] ?? (quick ? '1500' : '3000,1500')).split(',').map((s) => whole('lease-ms', s.trim())),
    displaysPerNode: whole('displays-per-node', values['displays-per-node']),
    server: values.server,
    outDir: path.resolve(PROJECT_ROOT, values['out-dir'] ?? (quick ? 'bench/results/quick' : 'bench/results')),
    append: values.append,
    log: (line) => process.stderr.write(`${line}\n`),
  };
}

export async function writeFailover(r: FailoverResult, outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  await writeFile(path.join(outDir, 'cluster-failover.json'), `${JSON.stringify(r, null, 2)}\n`);
  await writeFile(path.join(outDir, 'cluster-failover.md'), clusterFailoverMarkdown(r));
}

if (isMain(import.meta.url)) {
  let options: ReturnType<typeof parseFailoverArgs>;
  try {
    options = parseFailoverArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(2);
  }
  const { outDir, append, ...o } = options;
  let result = await runFailover(o);
  // --append: keep the leases of an earlier run in the same file, so each lease can be its own shorter run.
  if (append) result = mergeFailover(await readFile(path.join(outDir, 'cluster-failover.json'), 'utf8').catch(() => null), result);
  await writeFailover(result, outDir);
  process.stdout.write(clusterFailoverMarkdown(result));
  process.exitCode = Object.keys(result.errors).length ? 1 : 0;
}
