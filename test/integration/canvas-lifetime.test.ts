import { Client } from 'node-osc';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../../cli/run.js';
import type { EaselEvent } from '../../server/control/events.js';
import { startDevInferenceService } from '../../tools/inference-dev.js';
import { DisplayClient, refusedUpgrade } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

/**
 * Issue 9 item 4: a canvas exists because the config declares it or a display is watching it.
 * Commands (HTTP, OSC, CLI) never create one; a display-created canvas starts with its first
 * display and goes away once none is left; DELETE removes one.
 */
const TOKEN = 'lifetime-operator-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;
let osc: Client;
const heard: EaselEvent[] = [];

const api = (path: string, init: RequestInit = {}) => fetch(server.http(path), init);
const slugs = async () =>
  ((await (await api('/api/canvases')).json()) as { canvases: Array<{ slug: string }> }).canvases.map((c) => c.slug);

beforeAll(async () => {
  folder = tempFolder();
  putImage(folder.dir, 'a.png', await solidPng('#ff0000'));
  putImage(folder.dir, 'b.png', await solidPng('#0000ff'));
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_FOLDER: folder.dir,
    EASEL_CREATED_CANVAS_IDLE_SECONDS: '1',
    EASEL_OSC_ENABLED: 'true',
    EASEL_OSC_HOST: '127.0.0.1',
    EASEL_OSC_PORT: '0',
    EASEL_CANVASES: JSON.stringify([{ slug: 'left-canva', source: { type: 'folder' } }]),
  });
  server.server.events.subscribe((event) => heard.push(event));
  osc = new Client('127.0.0.1', server.server.oscPort!);
});

afterAll(async () => {
  await osc.close();
  await server.close();
  folder.remove();
});

describe('commands to a canvas that does not exist', () => {
  it.each([
    ['POST', '/api/canvases/left-canvas/pause', '{}'],
    ['POST', '/api/canvases/left-canvas/next', '{}'],
    ['PUT', '/api/canvases/left-canvas/source', JSON.stringify({ type: 'folder', path: '.' })],
    ['POST', '/api/canvases/left-canvas/playlist', JSON.stringify({ name: 'anything' })],
    ['GET', '/api/canvases/left-canvas', undefined],
    ['GET', '/api/canvases/left-canvas/frame', undefined],
  ])('%s %s is a 404 naming the nearest canvas, and creates none', async (method, path, body) => {
    const res = await api(path, { method, headers: auth, ...(body ? { body } : {}) });
    expect(res.status).toBe(404);
    const problem = (await res.json()) as Record<string, unknown>;
    expect(problem).toMatchObject({ code: 'EASEL_ERR_NOT_FOUND', didYouMean: 'left-canva' });
    expect(problem.detail).toBe('No canvas "left-canvas": did you mean "left-canva"?');
    expect(await slugs()).toEqual(['left-canva']);
  });

  it('names no canvas when none is near', async () => {
    const res = await api('/api/canvases/foyer/pause', { method: 'POST', headers: auth, body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ detail: 'No canvas "foyer"' });
  });

  it('over OSC is logged with the suggestion and creates none', async () => {
    await osc.send('/easel/left-canvas/pause');
    await vi.waitFor(
      () =>
        expect(server.logs.some((l) => l.code === 'EASEL_ERR_NOT_FOUND' && String(l.msg).includes('did you mean "left-canva"'))).toBe(true),
      { timeout: 5000 },
    );
    expect(server.server.registry.get('left-canvas')).toBeUndefined();
    expect(server.server.registry.get('left-canva')!.snapshot().state).not.toBe('paused');
  });

  it('from the CLI exits 1 with the suggestion', async () => {
    let stderr = '';
    const code = await runCli(['pause', 'left-canvas'], {
      env: { EASEL_URL: server.http(''), EASEL_OPERATOR_TOKEN: TOKEN },
      stdout: { write: () => undefined },
      stderr: { write: (t: string) => (stderr += t) },
    });
    expect(code).toBe(1);
    expect(stderr).toContain('No canvas "left-canvas": did you mean "left-canva"?');
    expect(await slugs()).toEqual(['left-canva']);
  });
});

describe('a canvas a display created', () => {
  it('streams to its display, then is removed once the display has been gone for its idle time', async () => {
    const display = new DisplayClient(server.ws('visitor'));
    await display.opened;
    await vi.waitFor(() => expect(display.frames.length).toBeGreaterThan(0), { timeout: 5000 });
    expect(await slugs()).toContain('visitor');
    display.close();
    await display.closed;
    await vi.waitFor(async () => expect(await slugs()).not.toContain('visitor'), { timeout: 10_000, interval: 200 });
    expect(heard).toContainEqual({ type: 'canvas', slug: 'visitor', removed: 'idle' });
    expect(await (await api('/metrics')).text()).not.toContain('canvas="visitor"');
    // Declared canvases stay, with or without displays.
    expect(await slugs()).toContain('left-canva');
  });

  it('stays while any display still watches it', async () => {
    const first = new DisplayClient(server.ws('returning'));
    await first.opened;
    const second = new DisplayClient(server.ws('returning'));
    await second.opened;
    first.close();
    await new Promise((r) => setTimeout(r, 1500));
    expect(await slugs()).toContain('returning');
    second.close();
    await vi.waitFor(async () => expect(await slugs()).not.toContain('returning'), { timeout: 10_000, interval: 200 });
  });

  it('renders nothing before a display is in, and one that never comes is reaped too', async () => {
    const canvas = server.server.registry.getOrCreate('never-watched')!;
    await new Promise((r) => setTimeout(r, 750)); // three slots at 4 FPS
    const snapshot = canvas.snapshot();
    expect(canvas.started).toBe(false);
    // Whether or not the reaper got it yet, nothing was rendered or published.
    expect(snapshot).toMatchObject({ lastFrame: null, counters: { published: 0 } });
    await vi.waitFor(() => expect(server.server.registry.get('never-watched')).toBeUndefined(), { timeout: 10_000, interval: 100 });
  });
});

describe('a generating canvas a display created', () => {
  it('asks the inference service for nothing before its display is in, and nothing more once it is removed', async () => {
    const dev = await startDevInferenceService({ latencyMs: 20 });
    // Created canvases generate (EASEL_SOURCE); the declared one plays a folder and asks for nothing.
    const generating = await startTestServer({
      EASEL_SOURCE: 'inference',
      EASEL_INFERENCE_ENDPOINTS: dev.address,
      EASEL_INFERENCE_WIDTH: '64',
      EASEL_INFERENCE_HEIGHT: '64',
      EASEL_FOLDER: folder.dir,
      EASEL_FALLBACK_FOLDER: folder.dir,
      EASEL_CREATED_CANVAS_IDLE_SECONDS: '1',
      EASEL_CANVASES: JSON.stringify([{ slug: 'left-canva', source: { type: 'folder' } }]),
    });
    try {
      // As an upgrade that never opened leaves it: created, with no display in.
      generating.server.registry.getOrCreate('never-watched');
      await new Promise((r) => setTimeout(r, 750)); // three slots at 4 FPS
      expect(dev.stats.calls).toBe(0);

      const display = new DisplayClient(generating.ws('visitor'));
      await display.opened;
      await vi.waitFor(() => expect(display.frames.some((f) => f.header.source === 'inference')).toBe(true), { timeout: 10_000 });
      expect(dev.stats.recent.every((c) => c.prompt.length > 0)).toBe(true);
      display.close();
      await display.closed;
      await vi.waitFor(() => expect(generating.server.registry.get('visitor')).toBeUndefined(), { timeout: 10_000, interval: 100 });
      await vi.waitFor(() => expect(dev.stats.active).toBe(0), { timeout: 5000, interval: 50 });
      const calls = dev.stats.calls;
      await new Promise((r) => setTimeout(r, 1000));
      expect(dev.stats.calls).toBe(calls);
      expect(generating.server.registry.get('never-watched')).toBeUndefined();
    } finally {
      await generating.close();
      await dev.close({ force: true });
    }
  }, 30_000);
});

describe('DELETE /api/canvases/:slug', () => {
  it('needs the operator token, closes the displays with 1001 and removes the canvas', async () => {
    const display = new DisplayClient(server.ws('guest'));
    await display.opened;
    expect((await api('/api/canvases/guest', { method: 'DELETE' })).status).toBe(401);
    expect(await slugs()).toContain('guest');
    const res = await api('/api/canvases/guest', { method: 'DELETE', headers: auth });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ removed: 'guest' });
    expect((await display.closed).code).toBe(1001);
    expect(await slugs()).not.toContain('guest');
    expect(heard).toContainEqual({ type: 'canvas', slug: 'guest', removed: 'operator' });
  });

  it('is what `easel remove SLUG` sends', async () => {
    const display = new DisplayClient(server.ws('kiosk-9'));
    await display.opened;
    let stdout = '';
    const io = (env: Record<string, string>) => ({
      env,
      stdout: { write: (t: string) => (stdout += t) },
      stderr: { write: () => undefined },
    });
    expect(await runCli(['remove', 'kiosk-9'], io({ EASEL_URL: server.http(''), EASEL_OPERATOR_TOKEN: TOKEN }))).toBe(0);
    expect(stdout).toBe('Removed kiosk-9\n');
    expect((await display.closed).code).toBe(1001);
    expect(await runCli(['remove', 'left-canva'], io({ EASEL_URL: server.http(''), EASEL_OPERATOR_TOKEN: TOKEN }))).toBe(1);
  });

  it('refuses a declared canvas with 409 and a missing one with 404', async () => {
    const declared = await api('/api/canvases/left-canva', { method: 'DELETE', headers: auth });
    expect(declared.status).toBe(409);
    expect(await declared.json()).toMatchObject({ code: 'EASEL_ERR_CANVAS_DECLARED' });
    const missing = await api('/api/canvases/nobody', { method: 'DELETE', headers: auth });
    expect(missing.status).toBe(404);
    expect(await slugs()).toContain('left-canva');
  });
});

describe('with createCanvasesOnConnect off', () => {
  it('a display asking for a near miss gets 404 naming the canvas it meant', async () => {
    const closed = await startTestServer({
      EASEL_FOLDER: folder.dir,
      EASEL_CREATE_CANVASES_ON_CONNECT: 'false',
      EASEL_CANVASES: JSON.stringify([{ slug: 'left-canva', source: { type: 'folder' } }]),
    });
    try {
      const refused = await refusedUpgrade(closed.ws('left-canvas'));
      expect(refused.status).toBe(404);
      expect(JSON.parse(refused.body)).toMatchObject({
        code: 'EASEL_ERR_NOT_FOUND',
        detail: 'Canvas "left-canvas" is not declared: did you mean "left-canva"?',
      });
      expect(closed.server.registry.get('left-canvas')).toBeUndefined();
    } finally {
      await closed.close();
    }
  });
});
