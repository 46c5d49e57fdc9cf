import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT } from '../../server/config.js';

export interface MainProcess {
  child: ChildProcess;
  stdout: string[];
  stderr: () => string;
  /** Resolves with the port from the start-up log line. */
  port: Promise<number>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs server/main.ts as its own process, the way `npm start` does, with JSON logs.
 * `openFiles` starts it under `ulimit -n` (soft and hard), as a box with a low limit would.
 * `wrap` runs it under another program, e.g. `['faketime', '-f', '+2s']` for a machine whose clock is off.
 */
export function startMain(args: string[], env: Record<string, string>, options: { openFiles?: number; wrap?: string[] } = {}): MainProcess {
  const node = [...(options.wrap ?? []), process.execPath, '--import', 'tsx', path.join(PROJECT_ROOT, 'server/main.ts'), ...args];
  const [command, ...argv] = options.openFiles ? ['bash', '-c', `ulimit -n ${options.openFiles} && exec "$0" "$@"`, ...node] : node;
  const child = spawn(command!, argv, {
    cwd: PROJECT_ROOT,
    // No state file unless a test names one: a run must not restore what an earlier one left.
    env: { PATH: process.env.PATH ?? '', NODE_ENV: 'test', EASEL_LOG_PRETTY: 'false', EASEL_STATE_FILE: '', EASEL_ARCHIVE_DIR: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let stderr = '';
  let buffered = '';
  const port = new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        stdout.push(line);
        const parsed = JSON.parse(line) as { port?: number; msg?: string };
        if (parsed.msg?.startsWith('Easel is streaming') && parsed.port) resolve(parsed.port);
      }
    });
    child.once('exit', () => reject(new Error(`main exited before listening: ${stderr}`)));
  });
  port.catch(() => undefined);
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, stdout, stderr: () => stderr, port, exited };
}
