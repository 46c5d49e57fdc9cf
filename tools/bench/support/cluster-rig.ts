/**
 * What the cluster benchmarks run on: a real redis-server (test/support/redis-server.ts, an
 * ephemeral port and its own data folder) and Easel nodes as separate processes on loopback,
 * each with `cluster.redisUrl` set, plus the readings taken from outside: GET /api/cluster,
 * Redis's INFO counters, and CPU from /proc.
 */
import { Redis } from 'ioredis';
import { startRedis, type TestRedis } from '../../../test/support/redis-server.js';
import { sleep } from './main-module.js';
import { tryProcStat } from './proc.js';
import { startServerProcess, type ServerProcess } from './server-process.js';

export interface ClusterNode {
  id: string;
  server: ServerProcess;
}

export interface RedisReading {
  /** Bytes Redis read from / wrote to all its clients since it started. */
  netInBytes: number;
  netOutBytes: number;
  /** Redis's CPU (user + system), seconds. */
  cpuSeconds: number;
}

export interface BenchRedis {
  readonly url: string;
  readonly pid: number;
  read(): Promise<RedisReading>;
  /** A connection of the harness's own (closed by stop). */
  readonly client: Redis;
  stop(): Promise<void>;
}

const field = (info: string, name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);

export async function startBenchRedis(): Promise<BenchRedis> {
  const redis: TestRedis = await startRedis();
  const client = new Redis(redis.url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  const pid = field(await client.info('server'), 'process_id');
  return {
    url: redis.url,
    pid,
    client,
    async read() {
      const info = await client.info();
      const proc = tryProcStat(pid);
      return {
        netInBytes: field(info, 'total_net_input_bytes'),
        netOutBytes: field(info, 'total_net_output_bytes'),
        cpuSeconds: proc?.cpuSeconds ?? field(info, 'used_cpu_user') + field(info, 'used_cpu_sys'),
      };
    },
    async stop() {
      client.disconnect();
      await redis.stop();
    },
  };
}

export interface NodeOptions {
  id: string;
  redisUrl: string;
  /** Declared canvases, each looping the bundled images. */
  slugs: readonly string[];
  leaseMs: number;
  /** The compiled server (buildServer); tsx when absent. */
  entry: string | undefined;
}

export async function startNode(o: NodeOptions): Promise<ClusterNode> {
  const server = await startServerProcess({
    ...(o.entry ? { entry: o.entry } : {}),
    canvases: o.slugs.map((slug) => ({ slug, source: { type: 'folder', path: 'assets', order: 'name' } })),
    env: { EASEL_REDIS_URL: o.redisUrl, EASEL_NODE_ID: o.id, EASEL_LEASE_MS: String(o.leaseMs) },
  });
  return { id: o.id, server };
}

export interface NodeView {
  id: string;
  canvases: string[];
  displays: number;
}

/** The live nodes as one node sees them (GET /api/cluster); [] when it cannot answer. */
export async function clusterView(node: ClusterNode): Promise<NodeView[]> {
  try {
    const res = await fetch(`http://127.0.0.1:${node.server.port}/api/cluster`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { nodes?: NodeView[] };
    return body.nodes ?? [];
  } catch {
    return [];
  }
}

/** The seq of the last frame a node showed for a canvas; 0 when none or no answer. */
export async function lastSeq(node: ClusterNode, slug: string): Promise<number> {
  try {
    const res = await fetch(`http://127.0.0.1:${node.server.port}/api/canvases/${slug}`, { signal: AbortSignal.timeout(5000) });
    const body = (await res.json()) as { lastFrame?: { seq?: number } };
    return body.lastFrame?.seq ?? 0;
  } catch {
    return 0;
  }
}

/** Polls until `check` gives a value; throws `what` after `withinMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined>, withinMs: number, everyMs = 50): Promise<T> {
  const end = Date.now() + withinMs;
  for (;;) {
    const got = await check();
    if (got !== undefined) return got;
    if (Date.now() > end) throw new Error(`${what}: not reached within ${withinMs} ms`);
    await sleep(everyMs);
  }
}

/**
 * Waits until every node sees all of `nodes` and no other, every canvas has exactly one owner
 * among them and no node holds more than its share; returns slug → owner id.
 */
export function placed(nodes: readonly ClusterNode[], slugs: readonly string[], withinMs = 60_000): Promise<Map<string, string>> {
  const ids = nodes.map((n) => n.id).sort();
  const share = Math.ceil(slugs.length / nodes.length);
  return until(
    `placement of ${slugs.length} canvases on ${nodes.length} nodes`,
    async () => {
      const views = await Promise.all(nodes.map(clusterView));
      const owners = new Map<string, string>();
      for (const view of views) {
        if (
          view
            .map((n) => n.id)
            .sort()
            .join() !== ids.join()
        )
          return undefined;
        if (view.some((n) => n.canvases.length > share)) return undefined;
      }
      for (const n of views[0]!) for (const slug of n.canvases) if (!owners.has(slug)) owners.set(slug, n.id);
      const produced = views[0]!.flatMap((n) => n.canvases);
      return produced.length === slugs.length && owners.size === slugs.length ? owners : undefined;
    },
    withinMs,
    200,
  );
}

/** CPU seconds of each process (NaN for one that is gone). */
export const cpuOf = (pids: readonly number[]): number[] => pids.map((p) => tryProcStat(p)?.cpuSeconds ?? Number.NaN);
