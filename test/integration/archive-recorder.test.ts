import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { readPlays } from '../support/archive-fixtures.js';
import type { ArchiveEntry } from '../../server/archive/archive-entry.js';
import type { PlayLine } from '../../server/archive/play-log.js';
import { startDevInferenceService, type DevInferenceService } from '../../tools/inference-dev.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

/**
 * The archive fed by a real server: the dev inference service generating for declared canvases,
 * an upload, a folder canvas, a playlist's prompt step and a canvas kept out of the archive.
 */
const TOKEN = 'archive-operator-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let server: TestServer;
let dev: DevInferenceService;
let art: ReturnType<typeof tempFolder>;
let lists: ReturnType<typeof tempFolder>;
let archive: ReturnType<typeof tempFolder>;
const displays: DisplayClient[] = [];

const entriesOf = (canvas: string): ArchiveEntry[] => [...server.server.archive!.store.select({ canvas })];

const plays = () => readPlays(archive.dir);

beforeAll(async () => {
  dev = await startDevInferenceService({ latencyMs: 40 });
  art = tempFolder();
  putImage(art.dir, 'a.png', await solidPng('#ff0000'));
  putImage(art.dir, 'b.png', await solidPng('#0000ff'));
  lists = tempFolder();
  writeFileSync(
    path.join(lists.dir, 'night.yaml'),
    [
      'steps:',
      `  - folder: ${art.dir}`,
      '    frames: 2',
      '  - prompt: "a lighthouse in fog"',
      '    seed: 7',
      '    steps: 1',
      '    duration: 10m',
    ].join('\n'),
  );
  archive = tempFolder();
  const generating = (prompt: string) => ({ type: 'inference', prompt, negativePrompt: 'text, watermark', seed: 42, steps: 2 });
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_ARCHIVE_DIR: archive.dir,
    EASEL_ARCHIVE_MIN_FREE_MB: '0',
    EASEL_PLAYLISTS_DIR: lists.dir,
    EASEL_FOLDER: art.dir,
    EASEL_FALLBACK_FOLDER: art.dir,
    EASEL_INFERENCE_ENDPOINTS: dev.address,
    EASEL_INFERENCE_WIDTH: '128',
    EASEL_INFERENCE_HEIGHT: '128',
    EASEL_WIDTH: '128',
    EASEL_HEIGHT: '128',
    EASEL_CANVASES: JSON.stringify([
      { slug: 'gen', source: generating('a foggy harbour at dawn') },
      { slug: 'hidden', source: generating('a secret garden'), archive: false },
      { slug: 'wall', source: { type: 'folder' } },
      { slug: 'show', source: { type: 'folder' } },
    ]),
  });
  expect(await server.server.archive!.ready).toBe(true);
  for (const slug of ['gen', 'wall']) {
    const display = new DisplayClient(server.ws(slug));
    displays.push(display);
    await display.opened;
  }
}, 30_000);

afterAll(async () => {
  for (const d of displays) d.close();
  await server?.close();
  await dev?.close({ force: true });
  for (const f of [art, lists, archive]) f?.remove();
});

describe('the archive of a running server', () => {
  it('keeps generated frames with their prompt, seed, steps, model, endpoint, screen time and displays', async () => {
    await vi.waitFor(() => expect(entriesOf('gen').filter((e) => e.displays >= 1).length).toBeGreaterThanOrEqual(3), {
      timeout: 15_000,
      interval: 100,
    });
    const entries = entriesOf('gen');
    for (const e of entries) {
      expect(e).toMatchObject({
        canvas: 'gen',
        source: 'inference',
        prompt: 'a foggy harbour at dawn',
        negativePrompt: 'text, watermark',
        steps: 2,
        model: 'easel-dev-procedural',
        endpoint: dev.address,
        starred: false,
      });
      expect(e.seed).toBeGreaterThanOrEqual(42);
      expect(e.strength).toBeUndefined();
      expect(Date.parse(e.shownAt)).toBeGreaterThanOrEqual(Date.parse(e.madeAt));
      expect(e.seq).toBeGreaterThan(0);
      expect(existsSync(server.server.archive!.store.imagePath(e))).toBe(true);
      expect(existsSync(server.server.archive!.store.imagePath(e).replace(/\.\w+$/, '.json'))).toBe(true);
    }
    // A seed walk from 42: every frame its own seed, each written once.
    expect(new Set(entries.map((e) => e.seed)).size).toBe(entries.length);
    expect(new Set(entries.map((e) => e.seq)).size).toBe(entries.length);
    // The play log names each of them by its archive id.
    await vi.waitFor(() => {
      const logged = new Set(plays().map((l) => l.archiveId));
      expect(entries.filter((e) => !logged.has(e.id))).toEqual([]);
    });
  });

  it('keeps an upload, without prompt, seed or model', async () => {
    const image = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#00ff00' } })
      .png()
      .toBuffer();
    const res = await fetch(server.http('/api/canvases/wall/image?hold=1'), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'image/png' },
      body: image,
    });
    expect(res.status).toBe(202);
    await vi.waitFor(() => expect(entriesOf('wall')).toHaveLength(1), { timeout: 10_000, interval: 100 });
    const [upload] = entriesOf('wall');
    expect(upload).toMatchObject({ canvas: 'wall', source: 'upload', mime: 'image/png', width: 64, height: 48, displays: 1 });
    for (const key of ['prompt', 'seed', 'model', 'endpoint', 'steps']) expect(upload).not.toHaveProperty(key);
    expect(readFileSync(server.server.archive!.store.imagePath(upload!)).equals(image)).toBe(true);
    await vi.waitFor(() => expect(plays().find((l) => l.archiveId === upload!.id)).toMatchObject({ canvas: 'wall', source: 'upload' }));
  });

  it('copies no folder frame, but logs each with its file', async () => {
    await vi.waitFor(() => expect(plays().filter((l) => l.canvas === 'wall' && l.source === 'folder').length).toBeGreaterThanOrEqual(3), {
      timeout: 10_000,
    });
    const folderLines = plays().filter((l) => l.canvas === 'wall' && l.source === 'folder');
    for (const l of folderLines) {
      expect([path.join(art.dir, 'a.png'), path.join(art.dir, 'b.png')]).toContain(l.file);
      expect(l.archiveId).toBeNull();
      expect(Number.isNaN(Date.parse(l.at))).toBe(false);
    }
    expect(entriesOf('wall').every((e) => e.source === 'upload')).toBe(true);
    // Lines are in the order shown: seq goes up on each canvas.
    const seqs = plays()
      .filter((l) => l.canvas === 'wall')
      .map((l) => l.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
  });

  it('keeps nothing of a canvas with "archive": false, in the archive or the play log', async () => {
    await vi.waitFor(() => expect(server.server.registry.get('hidden')!.snapshot().counters.published).toBeGreaterThan(4), {
      timeout: 10_000,
    });
    await vi.waitFor(() => expect(entriesOf('gen').length).toBeGreaterThan(4), { timeout: 10_000 });
    expect(entriesOf('hidden')).toEqual([]);
    expect(plays().filter((l) => l.canvas === 'hidden')).toEqual([]);
    expect(readdirSync(archive.dir)).not.toContain('hidden');
  });

  it("carries a playlist's name and step into the frames its prompt step made", async () => {
    const started = await fetch(server.http('/api/canvases/show/playlist'), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'night' }),
    });
    expect(started.status).toBe(200);
    await vi.waitFor(() => expect(entriesOf('show').length).toBeGreaterThanOrEqual(2), { timeout: 15_000, interval: 100 });
    for (const e of entriesOf('show'))
      expect(e).toMatchObject({
        prompt: 'a lighthouse in fog',
        steps: 1,
        playlist: { name: 'night', step: 2 },
        model: 'easel-dev-procedural',
      });
  });

  it('counts what it kept in /metrics', async () => {
    await vi.waitFor(() => expect(server.server.archive!.counts().written).toBeGreaterThanOrEqual(4), { timeout: 10_000 });
    const text = await (await fetch(server.http('/metrics'))).text();
    const written = Number(/^easel_archive_written_total (\d+)/m.exec(text)?.[1]);
    expect(written).toBeGreaterThanOrEqual(4);
    expect(text).toMatch(/^easel_archive_dropped_total 0$/m);
    expect(text).toMatch(/^easel_archive_paused 0$/m);
    expect(Number(/^easel_archive_entries (\d+)/m.exec(text)?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(/^easel_archive_play_lines_total (\d+)/m.exec(text)?.[1])).toBeGreaterThan(written);
    // CI installs promtool (Debian package prometheus); elsewhere the names go unchecked here.
    if (spawnSync('promtool', ['--version']).status === 0) {
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toBe('');
    }
  });
});

describe('a still restored after a restart', () => {
  it('is not archived a second time', async () => {
    const folder = tempFolder();
    const state = tempFolder();
    const kept = tempFolder();
    putImage(folder.dir, 'a.png', await solidPng('#ff0000'));
    const env = {
      EASEL_OPERATOR_TOKEN: TOKEN,
      EASEL_ARCHIVE_DIR: kept.dir,
      EASEL_ARCHIVE_MIN_FREE_MB: '0',
      EASEL_STATE_FILE: path.join(state.dir, 'state.json'),
      EASEL_FOLDER: folder.dir,
      EASEL_CANVASES: JSON.stringify([{ slug: 'lobby' }]),
    };
    try {
      const first = await startTestServer(env);
      const image = await solidPng('#00ff00');
      const res = await fetch(first.http('/api/canvases/lobby/image?hold=0'), {
        method: 'POST',
        headers: { ...auth, 'content-type': 'image/png' },
        body: image,
      });
      expect(res.status).toBe(202);
      const { imageId } = (await res.json()) as { imageId: string };
      await vi.waitFor(() => expect([...first.server.archive!.store.select({})]).toHaveLength(1), { timeout: 10_000 });
      await first.close();

      const second = await startTestServer(env);
      try {
        await vi.waitFor(() => expect(second.server.registry.get('lobby')!.snapshot().lastFrame).toMatchObject({ imageId }), {
          timeout: 10_000,
        });
        await second.server.archive!.ready;
        expect([...second.server.archive!.store.select({})]).toHaveLength(1);
      } finally {
        await second.close();
      }
      const lines = readdirSync(path.join(kept.dir, 'plays')).flatMap((n) =>
        readFileSync(path.join(kept.dir, 'plays', n), 'utf8')
          .split('\n')
          .filter(Boolean),
      );
      const shown = lines.map((l) => JSON.parse(l) as PlayLine).filter((l) => l.imageId === imageId);
      // Shown twice (before and after the restart), archived the first time only.
      expect(shown.length).toBe(2);
      expect(shown[0]!.archiveId).not.toBeNull();
      expect(shown[1]!.archiveId).toBeNull();
    } finally {
      for (const f of [folder, state, kept]) f.remove();
    }
  }, 40_000);
});
