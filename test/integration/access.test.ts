import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { loadConfig } from '../../server/config.js';
import { isEaselError } from '../../server/errors.js';
import { putImage, solidPng } from '../support/images.js';
import { rawRequest } from '../support/raw-http.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

const OPERATOR = 'access-test-operator-token';
const DISPLAY = 'access-test-display-token';
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;

beforeAll(async () => {
  folder = tempFolder();
  putImage(folder.dir, 'a.png', await solidPng('#336699'));
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: OPERATOR,
    EASEL_DISPLAY_TOKEN: DISPLAY,
    EASEL_FOLDER: folder.dir,
    EASEL_ALLOWED_HOSTS: 'wall.venue.test',
    EASEL_CANVASES: JSON.stringify([{ slug: 'wall' }]),
  });
  // The frame route answers 404 until the canvas has shown its first frame.
  for (let i = 0; i < 200 && (await fetch(server.http(`/api/canvases/wall/frame?token=${DISPLAY}`))).status !== 200; i++)
    await new Promise((r) => setTimeout(r, 50));
});

afterAll(async () => {
  await server?.close();
  folder?.remove();
});

/** One request from a chosen loopback address (127.0.0.2 is another client to the server). */
function requestFrom(
  localAddress: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: server.port, method, path, headers, localAddress, agent: false }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

describe('item 8: the display token covers every way to see a canvas', () => {
  it('the frame route needs the display or the operator token, as ?token= or Bearer', async () => {
    const none = await fetch(server.http('/api/canvases/wall/frame'));
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({
      code: 'EASEL_ERR_AUTH_REQUIRED',
      title: 'Display token required',
      hint: expect.stringContaining('?token='),
    });
    expect((await fetch(server.http('/api/canvases/wall/frame?token=wrong-token-here'))).status).toBe(403);
    expect((await fetch(server.http(`/api/canvases/wall/frame?token=${DISPLAY}`))).status).toBe(200);
    expect((await fetch(server.http('/api/canvases/wall/frame'), { headers: bearer(DISPLAY) })).status).toBe(200);
    expect((await fetch(server.http('/api/canvases/wall/frame'), { headers: bearer(OPERATOR) })).status).toBe(200);
  });

  it('the events stream needs it too', async () => {
    const none = await fetch(server.http('/api/events'));
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    for (const url of [`/api/events?token=${DISPLAY}`, `/api/events?token=${OPERATOR}`]) {
      const stop = new AbortController();
      const res = await fetch(server.http(url), { signal: stop.signal });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      stop.abort();
    }
  });

  it('the display socket takes the operator token as well (the console previews)', async () => {
    const ws = new WebSocket(server.ws(`wall?token=${OPERATOR}`));
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.close();
  });
});

describe('item 9: CSRF and DNS rebinding', () => {
  const raw = (method: string, path: string, headers: string, body = '') =>
    rawRequest(
      server.port,
      `${method} ${path} HTTP/1.1\r\n${headers}content-length: ${Buffer.byteLength(body)}\r\n\r\n`,
      Buffer.from(body),
    );

  it('refuses a Host that is not a name of this server, naming it and the config key', async () => {
    const res = await raw('GET', '/api/canvases', 'host: evil.example:8000\r\n');
    expect(res.status).toBe(421);
    const problem = JSON.parse(res.body) as Record<string, unknown>;
    expect(problem).toMatchObject({ code: 'EASEL_ERR_HOST_NOT_ALLOWED', host: 'evil.example:8000', key: 'http.allowedHosts' });
    expect(problem.hint).toContain('http.allowedHosts');
    const post = await raw('POST', '/api/canvases/wall/pause', `host: evil.example\r\nauthorization: Bearer ${OPERATOR}\r\n`);
    expect(post.status).toBe(421);
    expect((await raw('GET', '/api/canvases', 'host: wall.venue.test:8000\r\n')).status).toBe(200); // http.allowedHosts
    expect((await raw('GET', '/api/canvases', 'host: localhost:8000\r\n')).status).toBe(200);
  });

  it('refuses commands from a page of another site, and takes them with no Origin or the same origin', async () => {
    const auth = `host: 127.0.0.1:${server.port}\r\nauthorization: Bearer ${OPERATOR}\r\n`;
    const cross = await raw('POST', '/api/canvases/wall/pause', `${auth}origin: https://evil.example\r\n`);
    expect(cross.status).toBe(403);
    expect(JSON.parse(cross.body)).toMatchObject({ code: 'EASEL_ERR_ORIGIN_NOT_ALLOWED', origin: 'https://evil.example' });
    expect((await raw('POST', '/api/canvases/wall/pause', `${auth}origin: null\r\n`)).status).toBe(403);
    expect((await raw('POST', '/api/canvases/wall/pause', `${auth}origin: http://127.0.0.1:${server.port}\r\n`)).status).toBe(200);
    expect((await raw('POST', '/api/canvases/wall/resume', auth)).status).toBe(200);
    // Reading needs no Origin check: the same page may show the state anywhere.
    expect((await raw('GET', '/api/canvases', `host: 127.0.0.1\r\norigin: https://evil.example\r\n`)).status).toBe(200);
  });

  it('needs JSON for JSON bodies and an image type for uploads (415), which a form cannot send', async () => {
    const auth = `host: 127.0.0.1\r\nauthorization: Bearer ${OPERATOR}\r\n`;
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await raw('PUT', '/api/canvases/wall/source', `${auth}content-type: ${type}\r\n`, '{"type":"folder","path":"/tmp"}');
      expect(res.status, type).toBe(415);
      expect(JSON.parse(res.body)).toMatchObject({ code: 'EASEL_ERR_CONTENT_TYPE', hint: expect.stringContaining('application/json') });
    }
    expect((await raw('PUT', '/api/canvases/wall/source', auth, '{"type":"folder","path":"/tmp"}')).status).toBe(415); // a body needs a type
    const png = await solidPng('#aa0000', 32, 32);
    const upload = (type: string) =>
      rawRequest(
        server.port,
        `POST /api/canvases/wall/image?hold=0 HTTP/1.1\r\n${auth}content-type: ${type}\r\ncontent-length: ${png.length}\r\n\r\n`,
        png,
      );
    expect((await upload('text/plain')).status).toBe(415);
    expect((await upload('image/png')).status).toBe(202);
    expect((await upload('application/octet-stream')).status).toBe(202);
    expect((await raw('POST', '/api/canvases/wall/next', auth)).status).toBe(200); // no body, no type needed
  });

  it('refuses a display upgrade from another site when a display token is set', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(server.ws(`wall?token=${DISPLAY}`), { origin: 'https://evil.example' });
      ws.on('open', () => reject(new Error('opened')));
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('error', () => undefined);
    });
    expect(status).toBe(403);
    const same = new WebSocket(server.ws(`wall?token=${DISPLAY}`), { origin: `http://127.0.0.1:${server.port}` });
    await new Promise((resolve, reject) => {
      same.once('open', resolve);
      same.once('error', reject);
    });
    same.close();
  });
});

describe('item 10: token guessing', () => {
  it('slows an address guessing tokens (429 with Retry-After), while the right token from another address works', async () => {
    const counts: Record<number, number> = {};
    let retryAfter: string | undefined;
    for (let i = 0; i < 300; i++) {
      const res = await requestFrom('127.0.0.3', 'POST', '/api/canvases/wall/next', bearer(`guess-${i}-xxxxxxxxxxxxxxxx`));
      counts[res.status] = (counts[res.status] ?? 0) + 1;
      if (res.status === 429) retryAfter = res.headers['retry-after'] as string;
    }
    expect(counts[403]).toBeGreaterThanOrEqual(5);
    expect(counts[403]).toBeLessThanOrEqual(12); // 5 free, then each wait doubles: a slow box gets a few more
    expect(counts[429]).toBe(300 - counts[403]!);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    // The guessing address may not even present the right token for now; another address may.
    expect((await requestFrom('127.0.0.3', 'POST', '/api/canvases/wall/next', bearer(OPERATOR))).status).toBe(429);
    expect((await requestFrom('127.0.0.2', 'POST', '/api/canvases/wall/next', bearer(OPERATOR))).status).toBe(200);
  });

  it('keeps answering one stale token with a clear 403, not a lockout', async () => {
    const statuses = new Set<number>();
    for (let i = 0; i < 20; i++)
      statuses.add((await requestFrom('127.0.0.4', 'POST', '/api/canvases/wall/next', bearer('stale-token-of-a-kiosk'))).status);
    expect([...statuses]).toEqual([403]);
  });

  it('refuses at start-up an operator token under 16 characters on a reachable host, saying how to make one', () => {
    const load = (env: Record<string, string>) => () =>
      loadConfig({ env: { EASEL_CANVASES: '[]', ...env }, argv: [], configDir: folder.dir });
    let error: unknown;
    try {
      load({ EASEL_HOST: '0.0.0.0', EASEL_OPERATOR_TOKEN: 'short-token' })();
    } catch (err) {
      error = err;
    }
    expect(isEaselError(error, 'EASEL_ERR_CONFIG_INVALID')).toBe(true);
    expect((error as Error).message).toContain('operator.token');
    expect((error as Error).message).toContain('openssl rand -base64 24');
    expect((error as Error).message).not.toContain('short-token'); // never print the token
    expect(load({ EASEL_HOST: '127.0.0.1', EASEL_OPERATOR_TOKEN: 'short-token' })).not.toThrow();
    expect(load({ EASEL_HOST: '0.0.0.0', EASEL_OPERATOR_TOKEN: 'a-token-of-16-ch' })).not.toThrow();
  });
});

describe('item 11: what reading routes show without the operator token', () => {
  async function readEvents(url: string, until: (text: string) => boolean, act: () => Promise<unknown>): Promise<string> {
    const stop = new AbortController();
    const res = await fetch(url, { signal: stop.signal });
    const reader = res.body!.getReader();
    let text = '';
    let acted = false;
    while (!until(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += Buffer.from(value).toString();
      if (!acted && text.includes('event: hello')) {
        acted = true;
        await act();
      }
    }
    stop.abort();
    return text;
  }

  it('keeps states and counts open, and puts server paths and client addresses behind the token', async () => {
    const display = new WebSocket(server.ws(`wall?token=${DISPLAY}`));
    await new Promise((resolve) => display.once('open', resolve));
    try {
      const open = JSON.stringify(await (await fetch(server.http('/api/canvases'))).json());
      expect(open).toContain('"state"');
      expect(open).not.toContain(folder.dir);
      expect(open).toContain('…/');
      const full = JSON.stringify(await (await fetch(server.http('/api/canvases'), { headers: bearer(OPERATOR) })).json());
      expect(full).toContain(folder.dir);

      const one = (await (await fetch(server.http('/api/canvases/wall'))).json()) as {
        displays: number;
        displayList: Array<Record<string, unknown>>;
      };
      expect(one.displays).toBe(1);
      expect(one.displayList[0]).not.toHaveProperty('address');
      const oneFull = (await (await fetch(server.http('/api/canvases/wall'), { headers: bearer(OPERATOR) })).json()) as typeof one;
      expect(oneFull.displayList[0]).toHaveProperty('address', '127.0.0.1');

      const pause = () => fetch(server.http('/api/canvases/wall/next'), { method: 'POST', headers: bearer(OPERATOR) });
      const hasCommand = (t: string) => t.includes('event: command');
      const redacted = await readEvents(server.http(`/api/events?token=${DISPLAY}`), hasCommand, pause);
      expect(redacted).not.toContain('"who"');
      expect(redacted).not.toContain(folder.dir);
      const shown = await readEvents(server.http(`/api/events?token=${OPERATOR}`), hasCommand, pause);
      expect(shown).toContain('"who":"127.0.0.1"');
    } finally {
      display.close();
    }
  });

  it('shows everything to anyone with operator.openReads', async () => {
    const open = await startTestServer({
      EASEL_OPERATOR_TOKEN: OPERATOR,
      EASEL_FOLDER: folder.dir,
      EASEL_OPEN_READS: 'true',
      EASEL_CANVASES: JSON.stringify([{ slug: 'wall' }]),
    });
    try {
      expect(JSON.stringify(await (await fetch(open.http('/api/canvases'))).json())).toContain(folder.dir);
    } finally {
      await open.close();
    }
  });
});
