/**
 * Child processes of a benchmark or soak: each started with its open-file soft limit raised to
 * the hard limit (a process may raise its own soft limit up to the hard one, and Node has no
 * setrlimit), and all of them stopped when the parent ends, however it ends — normal exit,
 * an error, Ctrl-C or SIGTERM — so a run never leaves a server or load client behind.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const live = new Set<ChildProcess>();
let installed = false;
let stopping: Promise<void> | undefined;
const onInterruptHandlers = new Set<() => void | Promise<void>>();

export interface SpawnTsOptions {
  env?: Record<string, string>;
  stdio?: StdioOptions;
  /** 'advanced' lets typed arrays cross the IPC channel (structured clone). */
  serialization?: 'json' | 'advanced';
  /** Extra node flags, e.g. ['--cpu-prof']. */
  nodeArgs?: string[];
}

/**
 * Starts `node --import tsx <script> ...args` from the project root, through `sh` so that
 * `ulimit -n` can lift the soft open-file limit to the hard one first; `exec` keeps the pid,
 * so /proc/<pid> is the node process itself once it runs.
 */
export function spawnTs(script: string, args: string[], options: SpawnTsOptions = {}): ChildProcess {
  return spawnNode(script, args, { ...options, nodeArgs: [...(options.nodeArgs ?? []), '--import', 'tsx'] });
}

/** Like spawnTs for plain JavaScript (a compiled build): `node <script> ...args`, no tsx. */
export function spawnNode(script: string, args: string[], options: SpawnTsOptions = {}): ChildProcess {
  installCleanup();
  const child = spawn(
    '/bin/sh',
    ['-c', 'ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, ...(options.nodeArgs ?? []), script, ...args],
    {
      cwd: PROJECT_ROOT,
      env: { ...process.env, ...options.env },
      stdio: options.stdio ?? ['ignore', 'pipe', 'pipe'],
      ...(options.serialization ? { serialization: options.serialization } : {}),
    },
  );
  live.add(child);
  child.once('exit', () => live.delete(child));
  return child;
}

/** Resolves when the child has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves with how it ended. */
export async function stopChild(
  child: ChildProcess,
  graceMs = 5000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; killed: boolean }> {
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode, killed: false };
  child.kill('SIGTERM');
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, graceMs);
  const result = await exited(child);
  clearTimeout(timer);
  return { ...result, killed };
}

/** Stops every child still running. */
export function stopAllChildren(graceMs = 3000): Promise<void> {
  return Promise.allSettled([...live].map((c) => stopChild(c, graceMs))).then(() => undefined);
}

/**
 * Runs `fn` on Ctrl-C or SIGTERM before the children are stopped, e.g. to write partial
 * results; returns the function that removes it.
 */
export function onInterrupt(fn: () => void | Promise<void>): () => void {
  installCleanup();
  onInterruptHandlers.add(fn);
  return () => onInterruptHandlers.delete(fn);
}

function installCleanup(): void {
  if (installed) return;
  installed = true;
  const interrupt = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second Ctrl-C: no more waiting.
      for (const c of live) c.kill('SIGKILL');
      process.exit(130);
    }
    process.stderr.write(`\n${signal}: stopping child processes…\n`);
    stopping = (async () => {
      for (const fn of onInterruptHandlers) {
        try {
          await fn();
        } catch (err) {
          process.stderr.write(`Cleanup step failed: ${(err as Error).message}\n`);
        }
      }
      await stopAllChildren();
    })();
    void stopping.finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', interrupt);
  process.on('SIGTERM', interrupt);
  // Last resort for a crash or process.exit(): 'exit' handlers cannot wait, so no grace here.
  process.on('exit', () => {
    for (const c of live) c.kill('SIGKILL');
  });
}
