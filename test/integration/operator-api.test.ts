import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevInferenceService, type DevInferenceService } from '../../tools/inference-dev.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

const TOKEN = 'test-operator-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
let server: TestServer;
let dev: DevInferenceService;
let folder: ReturnType<typeof tempFolder>;

const api = (path: string, init: RequestInit = {}) => fetch(server.http(path), init);
const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
  api(path, { method: 'POST', headers, body: typeof body === 'string' || body instanceof Uint8Array ? body : JSON.stringify(body) });

beforeAll(async () => {
  dev = await startDevInferenceService({ latencyMs: 40 });
  folder = tempFolder();
  putImage(folder.dir, 'a.png', await solidPng('#ff0000'));
  putImage(folder.dir, 'b.png', await solidPng('#0000ff'));
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_FOLDER: folder.dir,
    EASEL_FALLBACK_FOLDER: folder.dir,
    EASEL_INFERENCE_ENDPOINTS: dev.address,
    EASEL_INFERENCE_WIDTH: '256',
    EASEL_INFERENCE_HEIGHT: '256',
    EASEL_MAX_BODY_BYTES: '200000',
    // This file sends more commands than one client's default burst; the limit has its own test below.
    EASEL_RATE_LIMIT_BURST: '1000',
    EASEL_CANVASES: JSON.stringify([{ slug: 'wall', source: { type: 'folder' } }]),
  });
});

afterAll(async () => {
  await server.close();
  await dev.close({ force: true });
  folder.remove();
});

describe('operator token', () => {
  it('is needed for mutating routes: 401 without it, 403 with a wrong one, 202 with the right one', async () => {
    const body = { prompt: 'a red boat' };
    const none = await post('/api/canvases/wall/prompt', body, { 'content-type': 'application/json' });
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toContain('application/problem+json');
    expect(none.headers.get('www-authenticate')).toContain('Bearer');
    expect(await none.json()).toMatchObject({
      status: 401,
      code: 'EASEL_ERR_AUTH_REQUIRED',
      hint: expect.stringContaining('Authorization'),
    });
    const wrong = await post('/api/canvases/wall/prompt', body, { authorization: 'Bearer nope', 'content-type': 'application/json' });
    expect(wrong.status).toBe(403);
    const right = await post('/api/canvases/wall/prompt', body);
    expect(right.status).toBe(202);
    const { job } = (await right.json()) as { job: { id: string; state: string } };
    expect(job).toMatchObject({ prompt: 'a red boat', state: 'queued' });
    expect(right.headers.get('location')).toBe(`/api/jobs/${job.id}`);
  });

  it('can be checked without changing anything: POST /api/auth/check answers like a command would', async () => {
    const none = await post('/api/auth/check', {}, { 'content-type': 'application/json' });
    expect(none.status).toBe(401);
    const wrong = await post('/api/auth/check', {}, { authorization: 'Bearer nope', 'content-type': 'application/json' });
    expect(wrong.status).toBe(403);
    expect(await wrong.json()).toMatchObject({ code: 'EASEL_ERR_AUTH_INVALID', hint: expect.stringContaining('EASEL_OPERATOR_TOKEN') });
    const right = await post('/api/auth/check', {});
    expect(right.status).toBe(200);
    expect(await right.json()).toEqual({ ok: true });
  });

  it('is not needed to read state', async () => {
    const res = await api('/api/canvases');
    expect(res.status).toBe(200);
    const { canvases } = (await res.json()) as { canvases: Array<{ slug: string }> };
    expect(canvases.map((c) => c.slug)).toContain('wall');
  });
});

describe('validation', () => {
  it.each([
    ['a missing prompt', {}, 'prompt'],
    ['a 2001-character prompt', { prompt: 'x'.repeat(2001) }, 'prompt'],
    ['a negative seed', { prompt: 'ok', seed: -1 }, 'seed'],
    ['a fractional seed', { prompt: 'ok', seed: 1.5 }, 'seed'],
    ['9 steps', { prompt: 'ok', steps: 9 }, 'steps'],
    ['a count of 0', { prompt: 'ok', count: 0 }, 'count'],
    ['a drift of 3', { prompt: 'ok', drift: 3 }, 'drift'],
  ])('refuses %s, naming the field', async (_what, body, field) => {
    const res = await post('/api/canvases/wall/prompt', body);
    expect(res.status).toBe(400);
    const problem = (await res.json()) as { code: string; field: string; detail: string; hint: string };
    expect(problem).toMatchObject({ code: 'EASEL_ERR_REQUEST_INVALID', field });
    expect(problem.detail.startsWith(`${field}:`)).toBe(true);
    expect(problem.hint.length).toBeGreaterThan(5);
  });

  it('says the steps range comes from the inference service', async () => {
    const res = await post('/api/canvases/wall/prompt', { prompt: 'ok', steps: 9 });
    expect(((await res.json()) as { detail: string }).detail).toBe('steps: value 9 is not allowed, the inference service takes 1 to 4');
  });

  it('takes steps 0 as the service default, as the config and playlists do', async () => {
    expect((await post('/api/canvases/wall/prompt', { prompt: 'ok', steps: 0 })).status).toBe(202);
  });

  it('refuses a source of no known type and a playlist with no name, naming the field', async () => {
    const put = await api('/api/canvases/wall/source', { method: 'PUT', headers: auth, body: JSON.stringify({ type: 'video' }) });
    expect(await put.json()).toMatchObject({
      status: 400,
      field: 'type',
      detail: expect.stringMatching(/^type: value "video" is not allowed/),
    });
    expect(await (await post('/api/canvases/wall/playlist', {})).json()).toMatchObject({
      status: 400,
      field: 'name',
      detail: 'name: is required',
    });
  });

  it('refuses a body that is not JSON, a bad slug and an unknown canvas', async () => {
    expect((await post('/api/canvases/wall/prompt', '{nope')).status).toBe(400);
    expect((await post('/api/canvases/Bad_Slug/pause', {})).status).toBe(400);
    expect((await api('/api/canvases/nobody-here')).status).toBe(404);
  });

  it('refuses an upload that is not an image, by its bytes', async () => {
    const res = await post('/api/canvases/wall/image', Buffer.from('GIF89a but not really'), {
      authorization: auth.authorization,
      'content-type': 'image/gif',
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ code: 'EASEL_ERR_UNSUPPORTED_MEDIA' });
  });

  it('answers 413 for a body over the limit', async () => {
    const big = Buffer.alloc(300_000, 1);
    const res = await post('/api/canvases/wall/image', big, { authorization: auth.authorization, 'content-type': 'image/png' });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'EASEL_ERR_BODY_TOO_LARGE' });
    const json = await post('/api/canvases/wall/prompt', { prompt: 'x', pad: 'y'.repeat(70_000) });
    expect(json.status).toBe(413);
  });
});

describe('commands', () => {
  it('shows an uploaded image next, to every display', async () => {
    const display = new DisplayClient(server.ws('wall'));
    await display.opened;
    const green = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#00ff00' } })
      .jpeg()
      .toBuffer();
    const res = await post('/api/canvases/wall/image?hold=5', green, { authorization: auth.authorization, 'content-type': 'image/jpeg' });
    expect(res.status).toBe(202);
    const { imageId } = (await res.json()) as { imageId: string };
    await vi.waitFor(() => expect(display.frames.some((f) => f.header.imageId === imageId)).toBe(true), { timeout: 3000 });
    const frame = display.frames.find((f) => f.header.imageId === imageId)!;
    expect(frame.header).toMatchObject({ source: 'upload', width: 64, height: 48 });
    display.close();
  });

  it('pauses, steps with next, and resumes a canvas', async () => {
    await api('/api/canvases/wall/source', { method: 'PUT', headers: auth, body: JSON.stringify({ type: 'folder', path: folder.dir }) });
    const display = new DisplayClient(server.ws('wall'));
    await display.opened;
    const paused = await post('/api/canvases/wall/pause', {});
    expect(paused.status).toBe(200);
    expect(await paused.json()).toMatchObject({ state: 'paused' });
    await new Promise((r) => setTimeout(r, 300));
    const count = display.frames.length;
    await new Promise((r) => setTimeout(r, 800));
    expect(display.frames.length).toBe(count);
    expect((await post('/api/canvases/wall/next', {})).status).toBe(200);
    await vi.waitFor(() => expect(display.frames.length).toBe(count + 1), { timeout: 5000 });
    expect(await (await post('/api/canvases/wall/resume', {})).json()).toMatchObject({ state: expect.stringMatching(/holding|streaming/) });
    await vi.waitFor(() => expect(display.frames.length).toBeGreaterThan(count + 2), { timeout: 5000 });
    display.close();
  });

  it('refuses a folder that does not exist, naming the path', async () => {
    const res = await api('/api/canvases/wall/source', {
      method: 'PUT',
      headers: auth,
      body: JSON.stringify({ type: 'folder', path: '/nope/art' }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ field: 'path', detail: 'path: folder "/nope/art" does not exist' });
  });

  it('serves the latest frame as an image', async () => {
    const res = await api('/api/canvases/wall/frame?format=jpeg');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect((await sharp(Buffer.from(await res.arrayBuffer())).metadata()).format).toBe('jpeg');
  });
});

describe('jobs and events', () => {
  it('reports a job from queued through generating to done on the event stream', async () => {
    const controller = new AbortController();
    const stream = await api('/api/events', { signal: controller.signal });
    expect(stream.headers.get('content-type')).toContain('text/event-stream');
    const reader = stream.body!.getReader();
    const seen: Array<{ state: string; produced: number }> = [];
    let text = '';
    let jobId = '';
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        text += Buffer.from(value).toString();
        for (const block of text.split('\n\n').slice(0, -1)) {
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (block.includes('event: job') && data) {
            const { job } = JSON.parse(data) as { job: { id: string; state: string; produced: number } };
            if (job.id === jobId) seen.push(job);
          }
        }
        text = text.slice(text.lastIndexOf('\n\n') + 2);
        if (seen.some((j) => j.state === 'done')) return;
      }
    })();
    const res = await post('/api/canvases/wall/prompt', { prompt: 'tide pools', count: 3 });
    jobId = ((await res.json()) as { job: { id: string } }).job.id;
    await vi.waitFor(() => expect(seen.at(-1)?.state).toBe('done'), { timeout: 8000 });
    controller.abort();
    await reading.catch(() => undefined);
    expect(seen.map((j) => j.state)).toEqual(['generating', 'generating', 'done']);
    expect(seen.map((j) => j.produced)).toEqual([1, 2, 3]);
    expect((await (await api(`/api/jobs/${jobId}`)).json()) as unknown).toMatchObject({ job: { state: 'done', produced: 3 } });
  });

  it('cancels a running job: the service sees the cancellation', async () => {
    await dev.close({ force: true }).catch(() => undefined);
    const slow = await startDevInferenceService({ port: dev.port, latencyMs: 600 });
    dev = slow;
    const res = await post('/api/canvases/wall/prompt', { prompt: 'slow fog', count: 20 });
    const { job } = (await res.json()) as { job: { id: string } };
    await vi.waitFor(() => expect(slow.stats.recent.some((r) => r.prompt === 'slow fog' && r.outcome === 'running')).toBe(true), {
      timeout: 15_000,
    });
    const cancelled = await api(`/api/jobs/${job.id}`, { method: 'DELETE', headers: auth });
    expect(cancelled.status).toBe(200);
    expect(await cancelled.json()).toMatchObject({ job: { state: 'cancelled' } });
    await vi.waitFor(() => expect(slow.stats.recent.find((r) => r.prompt === 'slow fog')?.outcome).toBe('cancelled'), { timeout: 5000 });
  });
});

describe('rate limits', () => {
  it('answers 429 with Retry-After once a client sends too many commands', async () => {
    const limited = await startTestServer({
      EASEL_OPERATOR_TOKEN: TOKEN,
      EASEL_FOLDER: folder.dir,
      EASEL_RATE_LIMIT_BURST: '3',
      EASEL_RATE_LIMIT_PER_MINUTE: '6',
      EASEL_CANVASES: JSON.stringify([{ slug: 'x', source: { type: 'folder' } }]),
    });
    try {
      const statuses = [];
      for (let i = 0; i < 5; i++)
        statuses.push((await fetch(limited.http('/api/canvases/x/next'), { method: 'POST', headers: auth })).status);
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
      const res = await fetch(limited.http('/api/canvases/x/next'), { method: 'POST', headers: auth });
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await res.json()).toMatchObject({ code: 'EASEL_ERR_RATE_LIMITED', status: 429 });
    } finally {
      await limited.close();
    }
  });
});
