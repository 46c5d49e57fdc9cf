/**
 * The real Easel server as its own process (`node --import tsx server/main.ts`), on loopback and
 * an ephemeral port, for benchmarks and the soak: the load stays outside the server, and the
 * server's CPU and memory are read from /proc as an operator would see them.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { PROJECT_ROOT, exited, spawnNode, spawnTs, stopChild, type SpawnTsOptions } from './children.js';
import { openFileLimit, procStat, type FileLimit, type ProcStat } from './proc.js';

export interface ServerProcessOptions {
  /** The `canvases` config: declarations like {slug, source: {type: 'folder', path}}. */
  canvases: Array<Record<string, unknown>>;
  /** More EASEL_* variables; they win over the defaults below. */
  env?: Record<string, string>;
  nodeArgs?: string[];
  /**
   * A compiled server/main.js to run with plain node (see buildServer), as `npm start` does;
   * without it the TypeScript sources run through tsx, whose loader thread adds memory and start-up time.
   */
  entry?: string;
  /** How long start-up may take, ms. Default 60 s (tsx compiles on a busy 2-core box). */
  startTimeoutMs?: number;
}

export interface CanvasCounters {
  /** Frames published (one per slot that had a frame ready). */
  published: number;
  /** Slots with no frame ready: the canvas held its last frame. */
  held: number;
  /** Sends skipped because a display had not taken the previous frame yet. */
  skippedSends: number;
  /** Displays closed for taking no frame for too long. */
  stalledClosed: number;
  displays: number;
}

export interface ServerLogCounts {
  warn: number;
  error: number;
  /** Count of each warn/error message, by its `msg`. */
  byMessage: Record<string, number>;
}

export interface ServerProcess {
  readonly pid: number;
  readonly port: number;
  readonly child: ChildProcess;
  /** ws://127.0.0.1:<port>/ws/<slug>[?query] */
  wsUrl(slug: string, query?: string): string;
  stat(): ProcStat;
  openFileLimit(): FileLimit;
  readonly logs: ServerLogCounts;
  /** The last lines on stderr, for a report when the server died. */
  stderrTail(): string;
  /**
   * Resolves once every named canvas has published at least `frames` frames (read from
   * GET /api/canvases): after one loop of a folder every frame is a rendition-cache hit, so a
   * measurement that starts then sees steady state, not the first encodes.
   */
  waitForPublished(slugs: readonly string[], frames: number, timeoutMs?: number): Promise<void>;
  /** Every canvas's counters from GET /api/canvases, summed: what the server itself says it did. */
  counters(): Promise<CanvasCounters>;
  /** SIGTERM, then SIGKILL after the grace; says how it went. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean; ms: number }>;
}

/**
 * Limits a load test must not trip over: the bench measures pacing, not admission control.
 * Keys the server does not know are ignored by its config loader.
 */
export const BENCH_LIMITS_ENV: Record<string, string> = {
  EASEL_MAX_DISPLAYS_PER_CANVAS: '100000',
  EASEL_MAX_CONNECTIONS: '100000',
  EASEL_CONNECTIONS_PER_SECOND: '100000',
  EASEL_CONNECTION_BURST: '100000',
  EASEL_RATE_LIMIT_LOOPBACK: 'false',
};

export async function startServerProcess(options: ServerProcessOptions): Promise<ServerProcess> {
  const spawnOptions: SpawnTsOptions = {
    env: {
      EASEL_PORT: '0',
      EASEL_HOST: '127.0.0.1',
      EASEL_LOG_PRETTY: 'false',
      EASEL_LOG_LEVEL: 'info',
      // A bench measures a fresh server, never one restoring an earlier run's state.
      EASEL_STATE_FILE: '',
      // ... nor write an archive into the checkout (a bench of archiving names a folder).
      EASEL_ARCHIVE_DIR: '',
      NODE_ENV: 'production',
      ...BENCH_LIMITS_ENV,
      EASEL_CANVASES: JSON.stringify(options.canvases),
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.nodeArgs ? { nodeArgs: options.nodeArgs } : {}),
  };
  const child = options.entry
    ? spawnNode(options.entry, [], spawnOptions)
    : spawnTs(path.join(PROJECT_ROOT, 'server/main.ts'), [], spawnOptions);
  const logs: ServerLogCounts = { warn: 0, error: 0, byMessage: {} };
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });

  const port = await new Promise<number>((resolve, reject) => {
    let pending = '';
    let found = false;
    const timer = setTimeout(
      () => reject(new Error(`The server did not start within ${options.startTimeoutMs ?? 60_000} ms:\n${stderr}`)),
      options.startTimeoutMs ?? 60_000,
    );
    // stdout is pino JSON lines; it must be read to the end or the server blocks on a full pipe.
    child.stdout!.on('data', (c: Buffer) => {
      pending += c.toString();
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        let entry: { level?: number; msg?: string; port?: number };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if (!found && typeof entry.port === 'number' && entry.msg?.startsWith('Easel is streaming')) {
          found = true;
          clearTimeout(timer);
          resolve(entry.port);
        }
        if ((entry.level ?? 0) >= 40) {
          if ((entry.level ?? 0) >= 50) logs.error++;
          else logs.warn++;
          const key = (entry.msg ?? '(no message)').slice(0, 120);
          logs.byMessage[key] = (logs.byMessage[key] ?? 0) + 1;
        }
      }
    });
    void exited(child).then(({ code, signal }) => {
      clearTimeout(timer);
      if (!found) reject(new Error(`The server exited during start-up (code ${code}, signal ${signal}):\n${stderr}`));
    });
  });

  const pid = child.pid!;
  return {
    pid,
    port,
    child,
    logs,
    wsUrl: (slug, query) => `ws://127.0.0.1:${port}/ws/${slug}${query ? `?${query}` : ''}`,
    stat: () => procStat(pid),
    openFileLimit: () => openFileLimit(pid),
    stderrTail: () => stderr,
    async counters() {
      const res = await fetch(`http://127.0.0.1:${port}/api/canvases`);
      const body = (await res.json()) as {
        canvases?: Array<{ displays?: number; counters?: Partial<Record<keyof CanvasCounters, number>> }>;
      };
      const sum: CanvasCounters = { published: 0, held: 0, skippedSends: 0, stalledClosed: 0, displays: 0 };
      for (const c of body.canvases ?? []) {
        sum.displays += c.displays ?? 0;
        for (const key of ['published', 'held', 'skippedSends', 'stalledClosed'] as const) sum[key] += c.counters?.[key] ?? 0;
      }
      return sum;
    },
    async waitForPublished(slugs, frames, timeoutMs = 60_000) {
      const deadline = performance.now() + timeoutMs;
      let last = '';
      while (performance.now() < deadline) {
        try {
          const res = await fetch(`http://127.0.0.1:${port}/api/canvases`);
          const body = (await res.json()) as { canvases?: Array<{ slug: string; counters?: { published?: number } }> };
          const published = new Map((body.canvases ?? []).map((c) => [c.slug, c.counters?.published ?? 0]));
          const behind = slugs.filter((s) => (published.get(s) ?? 0) < frames);
          if (behind.length === 0) return;
          last = behind.map((s) => `${s}: ${published.get(s) ?? 0}`).join(', ');
        } catch (err) {
          last = (err as Error).message;
        }
        await new Promise((r) => setTimeout(r, 250));
      }
      throw new Error(`Canvases did not publish ${frames} frames within ${timeoutMs} ms (${last})`);
    },
    async stop(graceMs = 5000) {
      const t0 = performance.now();
      const result = await stopChild(child, graceMs);
      return { ...result, ms: Math.round(performance.now() - t0) };
    },
  };
}

/** Where buildServer puts the compiled server: an ignored folder inside the project, so node finds node_modules. */
export const BENCH_BUILD_DIR = path.join(PROJECT_ROOT, '.tmp', 'bench-build');

/**
 * Compiles server/ with tsconfig.build.json into BENCH_BUILD_DIR (not dist/, which `npm start`
 * owns) and returns the path of main.js, so benchmarks measure the server as it runs in
 * production: plain node, no tsx. tsc still emits when another change in the tree has type
 * errors; those are returned as a note rather than stopping the benchmark.
 */
export async function buildServer(): Promise<{ entry: string; note: string | null }> {
  const tsc = path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const child = spawnNode(tsc, ['-p', 'tsconfig.build.json', '--outDir', BENCH_BUILD_DIR], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-2000)));
  child.stderr!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-2000)));
  const { code } = await exited(child);
  const entry = path.join(BENCH_BUILD_DIR, 'server', 'main.js');
  if (!existsSync(entry)) throw new Error(`tsc did not emit ${entry} (exit ${code}): ${out}`);
  return { entry, note: code === 0 ? null : `tsc reported errors (exit ${code}); the emitted JavaScript was used: ${out.split('\n')[0]}` };
}

/**
 * How the measured server runs: compiled (`build`, as in production) or from the sources with
 * tsx. A failed build falls back to tsx and says so in `runtime`, the line a report prints.
 */
export async function chooseServerRuntime(mode: 'build' | 'tsx'): Promise<{ entry: string | undefined; runtime: string }> {
  if (mode !== 'build') return { entry: undefined, runtime: 'tsx (TypeScript sources)' };
  try {
    const built = await buildServer();
    return { entry: built.entry, runtime: `node, compiled with tsconfig.build.json${built.note ? ` (${built.note})` : ''}` };
  } catch (err) {
    return { entry: undefined, runtime: `tsx, because the build failed: ${(err as Error).message.split('\n')[0]}` };
  }
}
