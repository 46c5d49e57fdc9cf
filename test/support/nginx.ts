import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './redis-server.js';

/** Debian's nginx (installed by .ci/run). */
export const NGINX = process.env.EASEL_TEST_NGINX ?? '/usr/sbin/nginx';

export interface TestNginx {
  readonly port: number;
  /** What nginx logged (errors and warnings). */
  errors(): string;
  stop(): Promise<void>;
}

const accepts = (port: number) =>
  new Promise<boolean>((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });

/**
 * A real nginx, unprivileged, in a temporary prefix: `site` is an http-block file (the README's
 * load balancer config) whose `listen 80;` becomes a free loopback port. Nothing outside the
 * prefix is written: logs, pid and temp files stay in it.
 */
export async function startNginx(site: string): Promise<TestNginx> {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-nginx-'));
  const port = await freePort();
  writeFileSync(path.join(dir, 'site.conf'), site.replace(/listen 80;/, `listen 127.0.0.1:${port};`));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${dir}/${t};`).join('\n');
  writeFileSync(
    path.join(dir, 'nginx.conf'),
    `error_log ${dir}/error.log warn;\npid ${dir}/nginx.pid;\nworker_processes 1;\nevents { worker_connections 512; }\nhttp {\n  access_log off;\n${temp}\n  include ${dir}/site.conf;\n}\n`,
  );
  const child: ChildProcess = spawn(
    NGINX,
    ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log'), '-g', 'daemon off;'],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const errors = () => {
    try {
      return `${stderr}${readFileSync(path.join(dir, 'error.log'), 'utf8')}`;
    } catch {
      return stderr;
    }
  };
  const deadline = Date.now() + 10_000;
  while (child.exitCode === null && !(await accepts(port))) {
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  if (child.exitCode !== null || !(await accepts(port))) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`nginx (${NGINX}) did not start; is it installed? (.ci/run installs it)\n${errors()}`);
  }
  return {
    port,
    errors,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM'); // fast shutdown: open WebSockets would hold a graceful one
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
