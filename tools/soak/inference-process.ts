/**
 * The dev inference service (tools/inference-dev.ts) as its own process on a fixed port, so
 * the soak can kill it — politely or not — and start it again where the server expects it.
 */
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { PROJECT_ROOT, exited, spawnTs, stopChild } from '../bench/support/children.js';

/** A port that was free a moment ago on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

export function createInferenceProcess(options: { port: number; latencyMs: number }) {
  let child: ChildProcess | undefined;
  let stderr = '';

  return {
    get pid(): number | undefined {
      return child?.pid;
    },
    get running(): boolean {
      return child !== undefined && child.exitCode === null && child.signalCode === null;
    },
    /** Starts the service and resolves once it says it listens. */
    async start(timeoutMs = 60_000): Promise<void> {
      const c = spawnTs(
        path.join(PROJECT_ROOT, 'tools/inference-dev.ts'),
        ['--port', String(options.port), '--latency-ms', String(options.latencyMs)],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      child = c;
      c.stderr!.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`The dev inference service did not start within ${timeoutMs} ms: ${stderr}`)),
          timeoutMs,
        );
        let out = '';
        c.stdout!.on('data', (d: Buffer) => {
          out = (out + d.toString()).slice(-4000);
          if (out.includes('Point Easel at it')) {
            clearTimeout(timer);
            resolve();
          }
        });
        void exited(c).then(({ code }) => {
          clearTimeout(timer);
          reject(new Error(`The dev inference service exited with ${code} during start-up: ${stderr}`));
        });
      });
    },
    /** SIGTERM (a deploy) or SIGKILL (a crash). */
    async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
      const c = child;
      if (!c) return;
      if (signal === 'SIGKILL') {
        c.kill('SIGKILL');
        await exited(c);
      } else {
        await stopChild(c, 5000);
      }
    },
  };
}
