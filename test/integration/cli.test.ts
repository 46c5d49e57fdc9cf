import { execFile } from 'node:child_process';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/run.js';
import { PROJECT_ROOT } from '../../server/config.js';

/**
 * `easel` against a stand-in for the operator HTTP API: a node:http server that records each
 * request and answers as docs/api.md says the API does. The first block runs cli/main.ts (what
 * `npx easel` runs, compiled) as its own process; each spawn costs about a second of tsx
 * start-up, so the rest of the command matrix runs the same runCli in this process, over the
 * same real HTTP.
 */

interface Recorded {
  method: string;
  url: string;
  authorization: string | undefined;
  contentType: string | undefined;
  body: unknown;
}
interface Reply {
  status: number;
  type?: string;
  body?: unknown;
}

const servers: http.Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

async function standIn(reply: (req: Recorded) => Reply = () => ({ status: 200, body: {} })) {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (chunk: Buffer) => (raw += chunk.toString()));
    req.on('end', () => {
      const recorded: Recorded = {
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        contentType: req.headers['content-type'],
        body: raw === '' ? undefined : (JSON.parse(raw) as unknown),
      };
      requests.push(recorded);
      const { status, type = 'application/json', body } = reply(recorded);
      res.writeHead(status, { 'content-type': type });
      res.end(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body));
    });
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function easel(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', path.join(PROJECT_ROOT, 'cli/main.ts'), ...args],
      { cwd: PROJECT_ROOT, env: { PATH: process.env.PATH ?? '', ...env } },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number(err.code) : 0, stdout, stderr });
      },
    );
  });
}

/** runCli in this process: everything but the 6-line entry, over real HTTP. */
async function easelInProcess(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

const problem = (status: number, title: string, detail: string, hint: string): Reply => ({
  status,
  type: 'application/problem+json',
  body: { type: 'about:blank', title, status, detail, hint },
});

describe('easel, run as a process', () => {
  it('prints every canvas as a table with its state, source, displays and last frame', async () => {
    const api = await standIn(() => ({
      status: 200,
      body: [
        {
          slug: 'left-canva',
          state: 'streaming',
          fps: 4,
          source: { kind: 'inference', state: 'ok' },
          displays: 2,
          lastFrame: { seq: 9, imageId: 'i9', timestamp: new Date(Date.now() - 3_000).toISOString(), source: 'inference' },
        },
        {
          slug: 'lobby-3',
          state: 'holding',
          fps: 4,
          source: {
            kind: 'folder',
            state: 'failed',
            code: 'EASEL_ERR_FOLDER_EMPTY',
            reason: 'No usable images in "/srv/lobby"',
            hint: 'Add JPEG or PNG files',
          },
          displays: 0,
          lastFrame: null,
        },
      ],
    }));
    const { code, stdout, stderr } = await easel(['status'], { EASEL_URL: api.url, EASEL_OPERATOR_TOKEN: 's3cret' });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(api.requests).toEqual([
      { method: 'GET', url: '/api/canvases', authorization: 'Bearer s3cret', contentType: undefined, body: undefined },
    ]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^SLUG +STATE +SOURCE +DISPLAYS +LAST FRAME$/);
    expect(lines[1]).toMatch(/^left-canva +streaming +inference +2 +\d\d:\d\d:\d\d \([345]s ago\)$/);
    expect(lines[2]).toMatch(/^lobby-3 +holding +folder \(failed\) +0 +never$/);
    expect(lines.slice(3)).toEqual(['', 'lobby-3: No usable images in "/srv/lobby" [EASEL_ERR_FOLDER_EMPTY]', '  Add JPEG or PNG files']);
  });

  it('sends a prompt with its seed and steps and the bearer token, and prints the job', async () => {
    const api = await standIn(() => ({ status: 202, body: { job: { id: 'job-42', state: 'queued' } } }));
    const result = await easel(['prompt', 'left-canva', 'a red boat', '--seed', '7', '--steps', '2'], {
      EASEL_URL: api.url,
      EASEL_OPERATOR_TOKEN: 's3cret',
    });
    expect(result).toEqual({ code: 0, stdout: 'Queued job job-42 on left-canva: "a red boat"\n', stderr: '' });
    expect(api.requests).toEqual([
      {
        method: 'POST',
        url: '/api/canvases/left-canva/prompt',
        authorization: 'Bearer s3cret',
        contentType: 'application/json',
        body: { prompt: 'a red boat', seed: 7, steps: 2 },
      },
    ]);
  });

  it('prints a problem+json error as title, detail and hint, and exits 1', async () => {
    const api = await standIn(() => problem(404, 'Canvas not found', 'No canvas "nope"', 'GET /api/canvases lists them'));
    const result = await easel(['pause', 'nope'], { EASEL_URL: api.url, EASEL_OPERATOR_TOKEN: 'tok' });
    expect(result).toEqual({ code: 1, stdout: '', stderr: 'easel: Canvas not found: No canvas "nope"\n  GET /api/canvases lists them\n' });
  });

  it('says to set EASEL_OPERATOR_TOKEN on 401', async () => {
    const api = await standIn(() =>
      problem(401, 'Operator token required', 'This route needs Authorization: Bearer <token>', 'server hint'),
    );
    const result = await easel(['next', 'a'], { EASEL_URL: api.url });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr:
        'easel: Operator token required: This route needs Authorization: Bearer <token>\n  Set EASEL_OPERATOR_TOKEN to the operator token (configured on the server, or printed once when it starts)\n',
    });
  });

  it('says the server cannot be reached, and exits 1', async () => {
    const closed = http.createServer().listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const result = await easel(['status'], { EASEL_URL: url });
    expect(result).toEqual({
      code: 1,
      stdout: '',
      stderr: `easel: Cannot reach the Easel server at ${url}: is it running? Set --server or EASEL_URL\n`,
    });
  });

  it('prints the usage and exits 2 for an unknown command or a bad slug, sending nothing', async () => {
    const api = await standIn();
    const unknown = await easel(['jump', 'a'], { EASEL_URL: api.url });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^easel: Unknown command "jump"\n\nUsage: easel <command>/);
    const badSlug = await easel(['next', 'Left Canva'], { EASEL_URL: api.url });
    expect(badSlug.code).toBe(2);
    expect(badSlug.stderr).toContain('easel: Invalid canvas slug "Left Canva"');
    expect(api.requests).toEqual([]);
  });
});

describe('easel, each command over HTTP', () => {
  it.each([
    [['next', 'lobby-3'], 'POST', '/api/canvases/lobby-3/next', undefined, 'Asked lobby-3 for its next frame'],
    [['pause', 'lobby-3'], 'POST', '/api/canvases/lobby-3/pause', undefined, 'Paused lobby-3'],
    [['resume', 'lobby-3'], 'POST', '/api/canvases/lobby-3/resume', undefined, 'Resumed lobby-3'],
    [
      ['playlist', 'lobby-3', 'evening'],
      'POST',
      '/api/canvases/lobby-3/playlist',
      { name: 'evening' },
      'Started playlist "evening" on lobby-3',
    ],
    [['playlist', 'lobby-3', '--stop'], 'DELETE', '/api/canvases/lobby-3/playlist', undefined, 'Stopped the playlist on lobby-3'],
  ])('easel %j sends %s %s', async (args, method, url, body, said) => {
    const api = await standIn();
    const result = await easelInProcess(args, { EASEL_URL: api.url, EASEL_OPERATOR_TOKEN: 'tok' });
    expect(result).toEqual({ code: 0, stdout: `${said}\n`, stderr: '' });
    expect(api.requests).toEqual([{ method, url, authorization: 'Bearer tok', contentType: body ? 'application/json' : undefined, body }]);
  });

  it('takes the server from --server over EASEL_URL and sends no Authorization without a token', async () => {
    const api = await standIn();
    const result = await easelInProcess(['--server', `${api.url}/`, 'next', 'a'], { EASEL_URL: 'http://127.0.0.1:9' });
    expect(result.code).toBe(0);
    expect(api.requests).toMatchObject([{ method: 'POST', url: '/api/canvases/a/next', authorization: undefined }]);
  });

  it('says that EASEL_OPERATOR_TOKEN does not match on 403, without printing it', async () => {
    const api = await standIn(() => problem(403, 'Operator token refused', 'The token sent is not the operator token', 'server hint'));
    const wrong = await easelInProcess(['next', 'a'], { EASEL_URL: api.url, EASEL_OPERATOR_TOKEN: 'nope' });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toBe(
      "easel: Operator token refused: The token sent is not the operator token\n  EASEL_OPERATOR_TOKEN does not match the server's operator token: copy it again from the server's config or start-up log\n",
    );
    expect(api.requests[0]?.authorization).toBe('Bearer nope');
  });

  it('says when the server is not an Easel server', async () => {
    const api = await standIn(() => ({ status: 502, type: 'text/html', body: '<h1>Bad gateway</h1>' }));
    const result = await easelInProcess(['status'], { EASEL_URL: api.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`easel: The server at ${api.url} answered GET /api/canvases with HTTP 502`);
    expect(result.stderr).toContain('Is --server or EASEL_URL pointing at an Easel server');
  });

  it('prints the usage on --help and exits 0', async () => {
    const result = await easelInProcess(['--help'], {});
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('prompt SLUG "text" [--seed N] [--steps N]');
  });
});
