import { existsSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevInferenceService, type DevInferenceService } from '../../tools/inference-dev.js';
import { parseSavedState } from '../../server/control/saved-state.js';
import { startMain } from '../support/main-process.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

const TOKEN = 'restart-state-token';
const json = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
let dev: DevInferenceService;
let red: ReturnType<typeof tempFolder>;
let blue: ReturnType<typeof tempFolder>;
let lists: ReturnType<typeof tempFolder>;
let stateDir: ReturnType<typeof tempFolder>;
let stateFile: string;

interface Snapshot {
  state: string;
  source: { kind: string; details?: Record<string, unknown> };
  holding: { until: string | null } | null;
  lastFrame: { imageId: string } | null;
  playlist: { playlist: string; stepIndex: number } | null;
}

const start = (extra: Record<string, string> = {}) =>
  startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_FOLDER: red.dir,
    EASEL_FALLBACK_FOLDER: red.dir,
    EASEL_INFERENCE_ENDPOINTS: dev.address,
    EASEL_INFERENCE_WIDTH: '128',
    EASEL_INFERENCE_HEIGHT: '128',
    EASEL_PLAYLISTS_DIR: lists.dir,
    EASEL_STATE_FILE: stateFile,
    EASEL_CANVASES: JSON.stringify(['prompted', 'held', 'show'].map((slug) => ({ slug, source: { type: 'folder' } }))),
    ...extra,
  });

const canvas = async (server: TestServer, slug: string) =>
  (await (await fetch(server.http(`/api/canvases/${slug}`), { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as Snapshot;
const call = async (server: TestServer, method: string, p: string, body?: unknown, headers: Record<string, string> = json) => {
  const res = await fetch(server.http(p), {
    method,
    headers,
    ...(body !== undefined && { body: body instanceof Buffer ? body : JSON.stringify(body) }),
  });
  expect(res.status, `${method} ${p}: ${res.status}`).toBeLessThan(300);
  return res.json() as Promise<Record<string, unknown>>;
};

beforeAll(async () => {
  dev = await startDevInferenceService({ latencyMs: 20 });
  red = tempFolder();
  putImage(red.dir, 'red.png', await solidPng('#ff0000'));
  blue = tempFolder();
  putImage(blue.dir, 'blue.png', await solidPng('#0000ff'));
  lists = tempFolder();
  // Step 2 lasts long enough that the restart finds the show there.
  writeFileSync(
    path.join(lists.dir, 'three-steps.yaml'),
    [
      'loop: true',
      'steps:',
      `  - folder: ${red.dir}`,
      '    duration: 1s',
      `  - folder: ${blue.dir}`,
      '    duration: 10m',
      `  - folder: ${red.dir}`,
      '    duration: 1s',
    ].join('\n'),
  );
});

afterAll(async () => {
  await dev.close({ force: true });
  for (const f of [red, blue, lists]) f.remove();
});

describe('runtime state across a restart', () => {
  beforeAll(() => {
    stateDir = tempFolder('easel-state-');
    stateFile = path.join(stateDir.dir, 'nested', 'easel-state.json');
  });
  afterAll(() => stateDir.remove());

  it('brings back prompts, sources, pauses, held stills and playlists at their step', async () => {
    const first = await start();
    await call(first, 'POST', '/api/canvases/prompted/prompt', { prompt: 'a harbour at dusk', seed: 7 });
    await call(first, 'POST', '/api/canvases/prompted/pause');
    await call(first, 'PUT', '/api/canvases/held/source', { type: 'folder', path: blue.dir });
    const still = await solidPng('#00ff00');
    const { imageId } = (await call(first, 'POST', '/api/canvases/held/image?hold=600', still, {
      authorization: `Bearer ${TOKEN}`,
      'content-type': 'image/png',
    })) as { imageId: string };
    await vi.waitFor(async () => expect((await canvas(first, 'held')).holding).not.toBeNull(), { timeout: 5000 });
    const until = (await canvas(first, 'held')).holding!.until;
    await call(first, 'POST', '/api/canvases/show/playlist', { name: 'three-steps' });
    await vi.waitFor(async () => expect((await canvas(first, 'show')).playlist?.stepIndex).toBe(1), { timeout: 6000 });
    await first.close();

    const saved = parseSavedState(JSON.parse(readFileSync(stateFile, 'utf8')));
    expect(saved.playlists).toEqual([{ name: 'three-steps', slugs: ['show'], stepIndex: 1, loopCount: 0 }]);
    expect(readdirSync(path.join(path.dirname(stateFile), 'stills'))).toEqual([saved.canvases.held!.hold!.file]);

    const second = await start();
    try {
      const prompted = await canvas(second, 'prompted');
      expect(prompted.state).toBe('paused');
      expect(prompted.source).toMatchObject({ kind: 'inference', details: { prompt: 'a harbour at dusk' } });
      // Paused from the start, it still shows one frame rather than a dark screen.
      await vi.waitFor(async () => expect((await canvas(second, 'prompted')).lastFrame).not.toBeNull(), { timeout: 10_000 });
      expect((await canvas(second, 'prompted')).state).toBe('paused');

      await vi.waitFor(async () => expect((await canvas(second, 'held')).lastFrame?.imageId).toBe(imageId), { timeout: 5000 });
      const held = await canvas(second, 'held');
      expect(held.source).toMatchObject({ kind: 'folder', details: { path: blue.dir } });
      // The hold ends when it would have ended anyway (give or take the render after the restart), not 10 minutes later.
      expect(Math.abs(Date.parse(held.holding!.until!) - Date.parse(until!))).toBeLessThan(15_000);

      const show = await canvas(second, 'show');
      expect(show.playlist).toMatchObject({ playlist: 'three-steps', stepIndex: 1 });
      expect(show.source).toMatchObject({ kind: 'folder', details: { path: blue.dir } });
      expect(second.logs.some((l) => String(l.msg).startsWith('Restoring runtime state'))).toBe(true);

      // What changes now is kept too: a resume clears the saved pause within about a second.
      await call(second, 'POST', '/api/canvases/prompted/resume');
      await vi.waitFor(
        () => expect(parseSavedState(JSON.parse(readFileSync(stateFile, 'utf8'))).canvases.prompted?.paused).toBeUndefined(),
        { timeout: 5000 },
      );
    } finally {
      await second.close();
    }
  });

  it('moves a corrupt state file aside with one warning and starts from the config', async () => {
    writeFileSync(stateFile, '{"version": 1, "canvases": {"held": {"source": {"type": "fol');
    const server = await start();
    try {
      const aside = readdirSync(path.dirname(stateFile)).filter((n) => n.startsWith('easel-state.json.corrupt-'));
      expect(aside).toHaveLength(1);
      const warnings = server.logs.filter((l) => l.level === 40 && String(l.msg).includes(stateFile));
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ file: stateFile, movedTo: path.join(path.dirname(stateFile), aside[0]!) });
      const held = await canvas(server, 'held');
      expect(held.source).toMatchObject({ kind: 'folder', details: { path: red.dir } });
      expect(held.state).not.toBe('paused');
    } finally {
      await server.close();
    }
  });

  it('skips, with a line each, canvases the config no longer declares, ended holds and gone playlists', async () => {
    mkdirSync(path.dirname(stateFile), { recursive: true });
    const state = {
      version: 1,
      savedAt: new Date().toISOString(),
      canvases: {
        gone: { paused: true },
        held: { hold: { imageId: 'u-old', file: 'held-u-old', until: Date.now() - 60_000 } },
        show: { source: { type: 'folder', path: path.join(blue.dir, 'no-such-folder'), order: 'name' } },
      },
      playlists: [{ name: 'no-such-show', slugs: ['show'], stepIndex: 0, loopCount: 0 }],
    };
    writeFileSync(stateFile, JSON.stringify(state));
    const server = await start();
    try {
      const lines = server.logs.map((l) => String(l.msg));
      expect(lines).toContainEqual(expect.stringContaining('Saved state for canvas "gone" ignored'));
      expect(lines).toContainEqual(expect.stringContaining('ended while the server was down'));
      expect(lines).toContainEqual(expect.stringContaining('Saved source of "show" not restored'));
      expect(lines).toContainEqual(expect.stringContaining('Playlist "no-such-show" not restored'));
      expect(server.server.registry.get('gone')).toBeUndefined();
      expect((await canvas(server, 'show')).source).toMatchObject({ kind: 'folder', details: { path: red.dir } });
    } finally {
      await server.close();
    }
  });
});

describe('the state file after kill -9', () => {
  it('is always whole: every read while commands stream in parses, and a restart restores it', { timeout: 60_000 }, async () => {
    const dir = tempFolder('easel-state-kill-');
    const file = path.join(dir.dir, 'state.json');
    const env = {
      EASEL_HOST: '127.0.0.1',
      EASEL_PORT: '0',
      EASEL_FOLDER: red.dir,
      EASEL_OPERATOR_TOKEN: TOKEN,
      EASEL_STATE_FILE: file,
      EASEL_RATE_LIMIT_PER_MINUTE: '100000',
      EASEL_RATE_LIMIT_BURST: '10000',
      EASEL_CANVASES: JSON.stringify([{ slug: 'wall', source: { type: 'folder' } }]),
    };
    const main = startMain([], env);
    try {
      const port = await main.port;
      const send = (p: string, body?: unknown) =>
        fetch(`http://127.0.0.1:${port}${p}`, {
          method: p.endsWith('source') ? 'PUT' : 'POST',
          headers: json,
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
      let reads = 0;
      const writes = new Set<string>();
      const began = Date.now();
      // Until a few versions were seen (a busy box gets there later; the bound below scales with it).
      for (let i = 0; (writes.size < 3 || Date.now() - began < 2000) && Date.now() - began < 15_000; i++) {
        await send(`/api/canvases/wall/${i % 2 === 0 ? 'pause' : 'resume'}`);
        if (i % 3 === 0) await send('/api/canvases/wall/source', { type: 'folder', path: i % 6 === 0 ? blue.dir : red.dir });
        if (existsSync(file)) {
          const text = readFileSync(file, 'utf8');
          expect(() => parseSavedState(JSON.parse(text))).not.toThrow();
          writes.add(text);
          reads++;
        }
      }
      // Debounced: about one write a second under constant commands, never one per command.
      expect(writes.size).toBeGreaterThanOrEqual(3);
      expect(writes.size).toBeLessThanOrEqual(Math.ceil((Date.now() - began) / 1000) + 1);
      expect(reads).toBeGreaterThan(writes.size);
      await send('/api/canvases/wall/pause');
      await vi.waitFor(() => expect(parseSavedState(JSON.parse(readFileSync(file, 'utf8'))).canvases.wall?.paused).toBe(true), {
        timeout: 5000,
      });
      main.child.kill('SIGKILL');
      await main.exited;
      // What a process killed inside a write leaves behind; the next start clears it away.
      const leftover = path.join(dir.dir, 'state.json.99999-1.tmp');
      writeFileSync(leftover, '{"version": 1, "canv');

      const again = startMain([], env);
      try {
        const port2 = await again.port;
        const wall = (await (await fetch(`http://127.0.0.1:${port2}/api/canvases/wall`)).json()) as Snapshot;
        expect(wall.state).toBe('paused');
        expect(existsSync(leftover)).toBe(false);
        expect(again.stdout.some((l) => l.includes('Restoring runtime state'))).toBe(true);
      } finally {
        again.child.kill('SIGKILL');
        await again.exited;
      }
    } finally {
      if (main.child.exitCode === null && main.child.signalCode === null) main.child.kill('SIGKILL');
      dir.remove();
    }
  });
});
