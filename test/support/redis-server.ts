import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Debian's redis-server (installed by .ci/run). */
export const REDIS_SERVER = process.env.EASEL_TEST_REDIS_SERVER ?? '/usr/bin/redis-server';

export interface TestRedis {
  readonly port: number;
  readonly url: string;
  /** Exits cleanly (SIGTERM) and waits for it; the data folder is removed. */
  stop(): Promise<void>;
  /** kill -9, as a crash or power cut would; the data folder is removed. */
  kill(): Promise<void>;
  /** Starts it again on the same port, empty (nothing is saved). */
  restart(): Promise<void>;
}

/** A free loopback port: redis-server has no `--port 0`, so bind one, read it and let it go. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * A real redis-server on loopback with its own empty data folder, nothing saved to disk. The port
 * may be taken between freePort and the start (another test, another worker): then it tries a
 * new one.
 */
export async function startRedis(): Promise<TestRedis> {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;

  const launch = async (fixedPort?: number): Promise<void> => {
    mkdirSync(dir, { recursive: true });
    for (let attempt = 0; attempt < 5; attempt++) {
      port = fixedPort ?? (await freePort());
      const proc = spawn(
        REDIS_SERVER,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'],
        { stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let exited = false;
      proc.once('exit', () => {
        exited = true;
      });
      // Up when it accepts a connection; a taken port makes it exit at once.
      const deadline = Date.now() + 10_000;
      while (!exited && Date.now() < deadline && !(await accepts(port))) await new Promise((r) => setTimeout(r, 20));
      if (!exited && (await accepts(port))) {
        child = proc;
        return;
      }
      proc.kill('SIGKILL');
      if (fixedPort !== undefined) await new Promise((r) => setTimeout(r, 200));
    }
    throw new Error(`redis-server (${REDIS_SERVER}) did not start; is it installed? (.ci/run installs it)`);
  };

  const end = (signal: NodeJS.Signals) =>
    new Promise<void>((resolve) => {
      const proc = child;
      child = undefined;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return resolve();
      proc.once('exit', () => resolve());
      proc.kill(signal);
    });

  await launch();
  return {
    get port() {
      return port;
    },
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    async stop() {
      await end('SIGTERM');
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      await end('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await end('SIGKILL');
      await launch(port);
    },
  };
}

/** A test cluster node's environment: 32×32 frames from `folder`, a short lease, `slugs` declared. */
export function clusterNodeEnv(redis: TestRedis, folder: string, slugs: readonly string[], token: string): Record<string, string> {
  return {
    EASEL_REDIS_URL: redis.url,
    EASEL_OPERATOR_TOKEN: token,
    EASEL_LEASE_MS: '1500',
    EASEL_FOLDER: folder,
    EASEL_WIDTH: '32',
    EASEL_HEIGHT: '32',
    EASEL_CANVASES: JSON.stringify(slugs.map((slug) => ({ slug }))),
  };
}
