import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import uWS from 'uWebSockets.js';
import WebSocket from 'ws';
import { guardApp } from '../../server/transport/guarded-app.js';
import { captureLogs } from '../support/log-capture.js';
import { putImage, solidPng } from '../support/images.js';
import { rawRequest } from '../support/raw-http.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

const TOKEN = 'malformed-input-operator-token';
const BAD = '%E0%A4%A'; // a truncated UTF-8 sequence: decodeURIComponent throws URIError on it
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;

beforeAll(async () => {
  folder = tempFolder();
  putImage(folder.dir, 'a.png', await solidPng('#336699'));
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_FOLDER: folder.dir,
    EASEL_CANVASES: JSON.stringify([{ slug: 'wall' }]),
  });
});

afterAll(async () => {
  await server?.close();
  folder?.remove();
});

const METHODS: Record<string, string> = {
  get: 'GET',
  post: 'POST',
  put: 'PUT',
  del: 'DELETE',
  patch: 'PATCH',
  options: 'OPTIONS',
  head: 'HEAD',
  any: 'GET',
  ws: 'GET',
};
const withBad = (pattern: string) => pattern.replace(/:\w+/g, BAD).replace(/\*/g, BAD);

function request(method: string, target: string, extraHeaders = '', body = '') {
  const head =
    `${method} ${target} HTTP/1.1\r\nhost: 127.0.0.1\r\nauthorization: Bearer ${TOKEN}\r\ncontent-type: application/json\r\n` +
    `content-length: ${Buffer.byteLength(body)}\r\n${extraHeaders}\r\n`;
  return rawRequest(server.port, head, Buffer.from(body));
}

describe('malformed input in any URL part', () => {
  it('a malformed percent-encoding in a path parameter is a 400 problem, and the server goes on', async () => {
    const res = await request('GET', `/api/canvases/${BAD}`);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(JSON.parse(res.body)).toMatchObject({ status: 400, code: 'EASEL_ERR_REQUEST_INVALID', detail: expect.stringContaining('slug') });
    expect((await fetch(server.http('/healthz'))).status).toBe(200);
  });

  it('every registered route answers malformed path, query and header input with a reply, never a crash or a 500', async () => {
    const routes = server.server.routes;
    expect(routes.length).toBeGreaterThan(20); // the walk covers the real route table
    const seen: string[] = [];
    for (const route of routes) {
      const method = METHODS[route.method]!;
      const path = withBad(route.pattern);
      const upgrade =
        route.method === 'ws'
          ? 'upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n'
          : '';
      const variants = [
        [path, ''],
        [`${route.pattern.replace(/:\w+/g, 'wall').replace(/\*/g, 'x')}?${BAD}=${BAD}&hold=${BAD}&token=${BAD}&w=${BAD}&format=${BAD}`, ''],
        [path, `x-odd: \u00ff\u00fe%%\r\nif-none-match: ${BAD}\r\naccept-encoding: ${BAD}\r\n`],
      ] as const;
      for (const [target, headers] of variants) {
        const res = await request(method, target, upgrade + headers, method === 'GET' || method === 'HEAD' ? '' : '{}');
        seen.push(`${method} ${target} → ${res.status}`);
        expect(res.status, `${method} ${target}`).not.toBe(500);
        if (res.status >= 400 && method !== 'HEAD') expect(res.headers['content-type'], `${method} ${target}`).toContain('problem+json');
      }
    }
    expect(seen.length).toBe(routes.length * 3);
    expect(server.server.handlerErrors).toBe(0);
    expect((await fetch(server.http('/healthz'))).status).toBe(200);
  });
});

describe('display upgrades', () => {
  it('with malformed escapes in the query get a reply, and the server goes on', async () => {
    const upgrade =
      'upgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n';
    for (const query of ['w=%A', 'format=%E0%A4%A', 'token=%', 'dpr=%%%']) {
      const res = await request('GET', `/ws/wall?${query}`, upgrade);
      expect([101, 400], query).toContain(res.status);
    }
    expect((await fetch(server.http('/healthz'))).status).toBe(200);
  });
});

describe('an unexpected exception in a handler', () => {
  it('answers 500 problem+json and the process goes on, for sync throws, async rejections and socket callbacks', async () => {
    const { logger, lines } = captureLogs('error');
    const guarded = guardApp(uWS.App(), logger);
    guarded.app.get('/sync', () => {
      throw new Error('sync boom');
    });
    guarded.app.get('/async', async () => {
      await Promise.resolve();
      throw new Error('async boom');
    });
    guarded.app.get('/ok', (res) => {
      res.end('ok');
    });
    guarded.app.ws('/ws', {
      message: () => {
        throw new Error('message boom');
      },
    });
    const listen = await new Promise<uWS.us_listen_socket>((resolve, reject) =>
      guarded.app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('listen failed')))),
    );
    const port = uWS.us_socket_local_port(listen);
    try {
      for (const path of ['/sync', '/async']) {
        const res = await rawRequest(port, `GET ${path} HTTP/1.1\r\nhost: x\r\n\r\n`);
        expect(res.status).toBe(500);
        expect(res.headers['content-type']).toContain('application/problem+json');
        expect(JSON.parse(res.body)).toMatchObject({ status: 500, hint: expect.stringContaining('log') });
      }
      expect((await rawRequest(port, 'GET /ok HTTP/1.1\r\nhost: x\r\n\r\n')).body).toBe('ok');
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws`);
      await new Promise((resolve) => socket.once('open', resolve));
      const closed = new Promise<number>((resolve) => socket.once('close', resolve));
      socket.send('anything');
      expect(await closed).toBe(1011);
      expect((await rawRequest(port, 'GET /ok HTTP/1.1\r\nhost: x\r\n\r\n')).body).toBe('ok');
      expect(guarded.caught).toBe(3);
      expect(lines.filter((l) => l.route === 'GET /sync' || l.route === 'GET /async' || l.route === 'WS /ws (message)')).toHaveLength(3);
    } finally {
      uWS.us_listen_socket_close(listen);
    }
  });
});
