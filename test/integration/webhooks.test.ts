import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevInferenceService, type DevInferenceService } from '../../tools/inference-dev.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

/**
 * Webhooks from the real server to a real node:http receiver: signed, retried when the receiver
 * answers 500, listed in the delivery log; a second hook points at a port nobody listens on.
 */
const TOKEN = 'webhooks-operator-token';
const SECRET = 'a-webhook-secret-for-this-test-0123456789';
const ALL = ['job.done', 'job.failed', 'source.down', 'source.up', 'display.connected', 'display.lost', 'playlist.step', 'canvas.created'];

interface Received {
  headers: Record<string, string | string[] | undefined>;
  raw: string;
  body: { id: string; event: string; canvas: string | null; at: string; sentAt: string; data: Record<string, unknown> };
  answered: number;
}

let receiver: Server;
const received: Received[] = [];
/** The receiver answers 500 to this many requests for `event` on `canvas`, then 200. */
const failing = { event: '', canvas: '', times: 0 };
let dev: DevInferenceService;
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;

const operator = { authorization: `Bearer ${TOKEN}` };
const log = async (query = '') => {
  const res = await fetch(server.http(`/api/webhooks/deliveries${query}`), { headers: operator });
  expect(res.status).toBe(200);
  return (await res.json()) as {
    hooks: Array<{ hook: number; target: string; events: string[]; pending: number; delivered: number; failed: number; dropped: number }>;
    deliveries: Array<{
      id: string;
      hook: number;
      event: string;
      canvas: string;
      state: string;
      attempts: number;
      lastStatus?: number;
      lastError?: string;
    }>;
  };
};
const delivered = (event: string, canvas: string) =>
  received.filter((r) => r.body.event === event && r.body.canvas === canvas && r.answered === 200);

beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const body = JSON.parse(raw) as Received['body'];
      const fail = body.event === failing.event && body.canvas === failing.canvas && failing.times > 0;
      if (fail) failing.times--;
      const answered = fail ? 500 : 200;
      received.push({ headers: req.headers, raw, body, answered });
      res.writeHead(answered).end(answered === 200 ? 'ok' : 'receiver broke');
    });
  });
  await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
  const port = (receiver.address() as AddressInfo).port;
  // A port that was free a moment ago: connections to it are refused.
  const dead = createServer();
  await new Promise<void>((done) => dead.listen(0, '127.0.0.1', done));
  const deadPort = (dead.address() as AddressInfo).port;
  await new Promise((done) => dead.close(done));

  dev = await startDevInferenceService({ latencyMs: 20 });
  folder = tempFolder();
  putImage(folder.dir, 'a.png', await solidPng('#ff0000', 64, 48));
  putImage(folder.dir, 'b.png', await solidPng('#00ff00', 64, 48));
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_FOLDER: folder.dir,
    EASEL_FALLBACK_FOLDER: folder.dir,
    EASEL_INFERENCE_ENDPOINTS: dev.address,
    EASEL_INFERENCE_WIDTH: '64',
    EASEL_INFERENCE_HEIGHT: '64',
    EASEL_WEBHOOKS: JSON.stringify([
      { url: `http://127.0.0.1:${port}/hooks/easel?key=path-secret`, events: ALL, secret: SECRET },
      { url: `http://127.0.0.1:${deadPort}/down`, events: ['canvas.created', 'display.connected'], secret: SECRET },
    ]),
    EASEL_CANVASES: JSON.stringify([
      { slug: 'stage', fps: 4, source: { type: 'folder' } },
      { slug: 'empty', fps: 4, source: { type: 'folder', path: path.join(folder.dir, 'missing') } },
    ]),
  });
});

afterAll(async () => {
  await server?.close();
  await dev?.close({ force: true });
  await new Promise((done) => receiver?.close(done));
  folder?.remove();
});

describe('webhooks to a real HTTP receiver', () => {
  it('posts canvas.created and display.connected, signed with the HMAC of the raw body', async () => {
    const display = new DisplayClient(server.ws('visitor-1'));
    await display.opened;
    await vi.waitFor(() => expect(delivered('display.connected', 'visitor-1')).toHaveLength(1), { timeout: 10_000 });
    expect(delivered('canvas.created', 'visitor-1')).toHaveLength(1);
    for (const r of received) {
      const expected = `sha256=${createHmac('sha256', SECRET).update(r.raw).digest('hex')}`;
      expect(r.headers['x-easel-signature']).toBe(expected);
      expect(r.headers['content-type']).toBe('application/json');
      expect(r.headers['x-easel-event']).toBe(r.body.event);
      expect(r.headers['x-easel-delivery']).toBe(r.body.id);
      expect(Number(r.headers['x-easel-timestamp'])).toBe(Math.floor(Date.parse(r.body.sentAt) / 1000));
      expect(Math.abs(Date.now() - Date.parse(r.body.sentAt))).toBeLessThan(60_000);
    }
    expect(delivered('display.connected', 'visitor-1')[0]!.body.data).toMatchObject({ displays: 1, address: expect.any(String) });
    display.close();
  });

  it('retries when the receiver answers 500, then delivers; the log shows it', async () => {
    failing.event = 'display.lost';
    failing.canvas = 'stage';
    failing.times = 2;
    const display = new DisplayClient(server.ws('stage'));
    await display.opened;
    display.close();
    await vi.waitFor(() => expect(delivered('display.lost', 'stage')).toHaveLength(1), { timeout: 20_000 });
    const tries = received.filter((r) => r.body.id === delivered('display.lost', 'stage')[0]!.body.id);
    // The same delivery (same id) three times: 500, 500, 200, each with a new sentAt and a valid signature.
    expect(tries.map((t) => t.answered)).toEqual([500, 500, 200]);
    expect(new Set(tries.map((t) => t.body.sentAt)).size).toBe(3);
    const { deliveries } = await log('?event=display.lost&hook=0');
    expect(deliveries.find((d) => d.id === tries[0]!.body.id)).toMatchObject({
      hook: 0,
      event: 'display.lost',
      canvas: 'stage',
      state: 'delivered',
      attempts: 3,
      lastStatus: 200,
    });
  });

  it('posts job.done after a prompt, and source.down for a canvas whose folder is missing', async () => {
    const res = await fetch(server.http('/api/canvases/stage/prompt'), {
      method: 'POST',
      headers: { ...operator, 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'a lighthouse', count: 1 }),
    });
    expect(res.status).toBe(202);
    await vi.waitFor(() => expect(delivered('job.done', 'stage')).toHaveLength(1), { timeout: 20_000 });
    expect(delivered('job.done', 'stage')[0]!.body.data).toMatchObject({ job: { prompt: 'a lighthouse', state: 'done', produced: 1 } });
    await vi.waitFor(() => expect(delivered('source.down', 'empty')).toHaveLength(1), { timeout: 10_000 });
    expect(delivered('source.down', 'empty')[0]!.body.data).toMatchObject({ state: 'failed', code: 'EASEL_ERR_FOLDER_MISSING' });
  });

  it('keeps retrying a receiver that is down without holding the server up, and shows why', async () => {
    await vi.waitFor(
      async () => {
        const { deliveries } = await log('?hook=1');
        expect(deliveries.length).toBeGreaterThanOrEqual(1);
        expect(deliveries[deliveries.length - 1]).toMatchObject({ hook: 1, state: 'retrying', lastError: 'ECONNREFUSED' });
      },
      { timeout: 10_000 },
    );
    // Meanwhile a display gets frames at the canvas's pace.
    const display = new DisplayClient(server.ws('stage'));
    await display.opened;
    await vi.waitFor(() => expect(display.frames.length).toBeGreaterThanOrEqual(6), { timeout: 10_000 });
    display.close();
  });

  it('shows no secret, no URL path or query in the log', async () => {
    const reply = await log();
    expect(reply.hooks.map((h) => h.target)).toEqual([
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
    ]);
    expect(reply.hooks[0]!.delivered).toBeGreaterThanOrEqual(4);
    const text = JSON.stringify(reply);
    for (const secret of [SECRET, 'path-secret', '/hooks/easel', '/down']) expect(text).not.toContain(secret);
  });

  it('counts deliveries in /metrics', async () => {
    const metrics = await (await fetch(server.http('/metrics'))).text();
    expect(Number(/easel_webhook_deliveries_total\{result="delivered"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(/easel_webhook_attempts_failed_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(2);
    // The new counters follow Prometheus naming, as promtool reads it (CI installs it; elsewhere this part is left out).
    if (spawnSync('promtool', ['--version']).status === 0) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: metrics, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toBe('');
    }
  });
});

describe('GET /api/webhooks/deliveries', () => {
  it('needs the operator token', async () => {
    const none = await fetch(server.http('/api/webhooks/deliveries'));
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ code: 'EASEL_ERR_AUTH_REQUIRED' });
    const wrong = await fetch(server.http('/api/webhooks/deliveries'), { headers: { authorization: 'Bearer not-the-token' } });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ code: 'EASEL_ERR_AUTH_INVALID' });
  });

  it.each([
    ['?limit=abc', 'limit'],
    ['?limit=0', 'limit'],
    ['?limit=-5', 'limit'],
    ['?hook=2', 'hook'],
    ['?hook=1e3', 'hook'],
    ['?event=job.finished', 'event'],
    ['?event=%E0%A4%A', 'event'],
  ])('answers a malformed query %s with 400 naming the field', async (query, field) => {
    const res = await fetch(server.http(`/api/webhooks/deliveries${query}`), { headers: operator });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 'EASEL_ERR_REQUEST_INVALID', field });
  });

  it('answers oversized values with 400, and a huge query without falling over', async () => {
    const big = await fetch(server.http('/api/webhooks/deliveries?limit=10000000'), { headers: operator });
    expect(big.status).toBe(400);
    const long = await fetch(server.http(`/api/webhooks/deliveries?event=${'x'.repeat(1500)}`), { headers: operator });
    expect(long.status).toBe(400);
    const problem = (await long.json()) as { detail: string };
    expect(problem.detail.length).toBeLessThan(300);
    const huge = await fetch(server.http(`/api/webhooks/deliveries?event=${'x'.repeat(200_000)}`), { headers: operator }).catch(
      () => undefined,
    );
    if (huge) expect(huge.status).toBe(431); // uWS refuses the request line before any handler
    expect((await fetch(server.http('/healthz'))).status).toBe(200);
    expect(server.server.handlerErrors).toBe(0);
  });
});
