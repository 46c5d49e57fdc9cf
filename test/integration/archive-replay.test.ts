import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ArchiveEntry } from '../../server/archive/archive-entry.js';
import { createArchiveStore } from '../../server/archive/archive-store.js';
import { systemClock } from '../../server/stream/clock.js';
import { ARCHIVE_T0, frameFor, readPlays } from '../support/archive-fixtures.js';
import { DisplayClient } from '../support/display-client.js';
import { meanColour, putImage, solidPng } from '../support/images.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

/**
 * Replay: a server whose archive the real store wrote plays it back to a real WebSocket display,
 * through a playlist's archive steps and through the source command of the API.
 */
const TOKEN = 'replay-operator-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const COLOURS = ['#ff0000', '#00ff00', '#0000ff', '#ffff00', '#00ffff'];
let server: TestServer;
let archive: ReturnType<typeof tempFolder>;
let art: ReturnType<typeof tempFolder>;
let lists: ReturnType<typeof tempFolder>;
/** wall-1's entries oldest first; the 2nd and 4th are starred. */
let entries: ArchiveEntry[];
const displays: DisplayClient[] = [];

const iso = (ms: number) => new Date(ms).toISOString();
/** The ids a display received in order, each once (a held frame is not sent again). */
const received = (display: DisplayClient) => display.frames.map((f) => f.header.imageId).filter((id, i, all) => id !== all[i - 1]);

const plays = () => readPlays(archive.dir);

async function watch(slug: string): Promise<DisplayClient> {
  const display = new DisplayClient(server.ws(slug));
  displays.push(display);
  await display.opened;
  return display;
}

beforeAll(async () => {
  archive = tempFolder();
  const { logger } = captureLogs('warn');
  const store = createArchiveStore({ dir: archive.dir, maxBytes: 0, maxAgeDays: 0, minFreeBytes: 0, clock: systemClock, logger });
  await store.open();
  for (let i = 0; i < COLOURS.length; i++) {
    await store.write(frameFor('wall-1', await solidPng(COLOURS[i]!, 64, 48), ARCHIVE_T0 + i * 60_000));
  }
  await store.write(frameFor('wall-2', await solidPng('#ffffff', 64, 48), ARCHIVE_T0));
  entries = [...store.select({ canvas: 'wall-1' })].reverse();
  for (const i of [1, 3]) await store.setStarred(entries[i]!.id, true);
  await store.close();

  art = tempFolder();
  putImage(art.dir, 'grey.png', await solidPng('#808080', 64, 48));
  lists = tempFolder();
  writeFileSync(
    path.join(lists.dir, 'replay.yaml'),
    [
      'steps:',
      // The first three of wall-1 by time, oldest first, then nothing (skipped), then the starred ones.
      `  - archive: { canvas: wall-1, from: "${iso(ARCHIVE_T0)}", to: "${iso(ARCHIVE_T0 + 3 * 60_000)}" }`,
      '    frames: 3',
      '  - archive: { canvas: wall-9 }',
      '    duration: 1m',
      '  - archive: { canvas: wall-1, starred: true }',
      '    frames: 2',
      `  - folder: ${art.dir}`,
      '    duration: 10m',
    ].join('\n'),
  );
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_ARCHIVE_DIR: archive.dir,
    EASEL_ARCHIVE_MIN_FREE_MB: '0',
    EASEL_ARCHIVE_MAX_AGE_DAYS: '0',
    EASEL_PLAYLISTS_DIR: lists.dir,
    EASEL_FOLDER: art.dir,
    EASEL_CANVASES: JSON.stringify([{ slug: 'show' }, { slug: 'lobby' }]),
  });
  expect(await server.server.archive!.ready).toBe(true);
}, 30_000);

afterAll(async () => {
  for (const d of displays) d.close();
  await server?.close();
  for (const f of [archive, art, lists]) f?.remove();
});

describe('replay from the archive', () => {
  it('plays a playlist archive step oldest first, skips an empty one, then plays the starred frames', async () => {
    const display = await watch('show');
    const started = await fetch(server.http('/api/canvases/show/playlist'), { method: 'POST', headers: auth, body: '{"name":"replay"}' });
    expect(started.status).toBe(200);
    const want = [0, 1, 2, 1, 3].map((i) => `a-${entries[i]!.id}`);
    await vi.waitFor(() => expect(received(display)).toEqual(expect.arrayContaining(want)), { timeout: 20_000, interval: 100 });
    const ids = received(display).filter((id) => id.startsWith('a-'));
    // The time range, oldest first; then the starred step: the 2nd, then the 4th. (A frame the
    // first step had rendered ahead may still be shown as the steps change on a busy machine.)
    expect(ids.slice(0, 3)).toEqual(want.slice(0, 3));
    const fourth = ids.indexOf(want[4]!);
    expect(ids[fourth - 1]).toBe(want[3]);
    expect(ids.slice(3)).not.toContain(want[2]);
    // The frames are the archived images themselves (their colours), sent as source "archive".
    const first = display.frames.find((f) => f.header.imageId === want[0])!;
    expect(first.header.source).toBe('archive');
    const [r, g, b] = await meanColour(first.image);
    expect(r).toBeGreaterThan(240);
    expect(g + b).toBeLessThan(20);
    expect(server.logs.some((l) => String(l.msg).includes('step 2 skipped: no archived frames match (wall-9)'))).toBe(true);
    // Proof of play names the archived file each replayed frame came from; replay archives nothing new.
    await vi.waitFor(() => expect(plays().find((p) => p.imageId === want[0])).toBeDefined(), { timeout: 5000 });
    expect(plays().find((p) => p.imageId === want[0])).toMatchObject({
      canvas: 'show',
      source: 'archive',
      file: path.join(archive.dir, entries[0]!.file),
    });
    expect(server.server.archive!.store.stats().entries).toBe(COLOURS.length + 1);
    // Then the folder step: the archive steps ended by their frame counts.
    await vi.waitFor(() => expect(display.frames.at(-1)?.header.source).toBe('folder'), { timeout: 10_000 });
  }, 40_000);

  it('shows a selection through PUT /api/canvases/:slug/source, and refuses a bad one without changing the canvas', async () => {
    const display = await watch('lobby');
    await vi.waitFor(() => expect(display.frames.at(-1)?.header.source).toBe('folder'), { timeout: 10_000 });
    const put = (body: unknown, headers: Record<string, string> = auth) =>
      fetch(server.http('/api/canvases/lobby/source'), { method: 'PUT', headers, body: JSON.stringify(body) });

    const refusals: Array<[unknown, number, string, RegExp]> = [
      [{ type: 'archive', canvas: 'wall-9' }, 404, 'EASEL_ERR_NOT_FOUND', /No archived frames match \(wall-9\)/],
      [{ type: 'archive', canvas: 'wall-1', from: 'yesterday' }, 400, 'EASEL_ERR_REQUEST_INVALID', /from: .*expected an ISO time/],
      [{ type: 'archive', canvas: 'Wall 1' }, 400, 'EASEL_ERR_REQUEST_INVALID', /canvas: .*expected a canvas slug/],
      [{ type: 'archive', canvas: 'wall-1', starred: 'yes' }, 400, 'EASEL_ERR_REQUEST_INVALID', /starred/],
      [{ type: 'archive', canvas: 'wall-1', order: 'newest' }, 400, 'EASEL_ERR_REQUEST_INVALID', /order/],
      [{ type: 'archive' }, 400, 'EASEL_ERR_REQUEST_INVALID', /canvas: is required/],
      [
        { type: 'archive', canvas: 'wall-1', from: '2026-12-02', to: '2026-12-01' },
        400,
        'EASEL_ERR_REQUEST_INVALID',
        /from: "2026-12-02" is not before to: "2026-12-01"/,
      ],
    ];
    for (const [body, status, code, message] of refusals) {
      const res = await put(body);
      const problem = (await res.json()) as Record<string, unknown>;
      expect(res.status, JSON.stringify(body)).toBe(status);
      expect(problem.code).toBe(code);
      expect(Object.values(problem).join(' ')).toMatch(message);
    }
    expect((await put({ type: 'archive', canvas: 'wall-1' }, { 'content-type': 'application/json' })).status).toBe(401);
    expect(display.frames.at(-1)?.header.source).toBe('folder');

    const ok = await put({ type: 'archive', canvas: 'wall-1', starred: true });
    expect(ok.status).toBe(200);
    const starred = [1, 3].map((i) => `a-${entries[i]!.id}`);
    await vi.waitFor(() => expect(received(display)).toEqual(expect.arrayContaining(starred)), { timeout: 10_000, interval: 100 });
    const state = (await (await fetch(server.http('/api/canvases/lobby'))).json()) as { source: unknown };
    expect(JSON.stringify(state.source)).toContain('archive');
  }, 40_000);

  it('plays a saved archive selection again after a restart; one that matches nothing any more is left with one line', async () => {
    const kept = tempFolder();
    const stateDir = tempFolder('easel-state-');
    const { logger } = captureLogs('warn');
    const store = createArchiveStore({ dir: kept.dir, maxBytes: 0, maxAgeDays: 0, minFreeBytes: 0, clock: systemClock, logger });
    await store.open();
    for (const [i, colour] of ['#ff00ff', '#00ff80'].entries())
      await store.write(frameFor('wall-3', await solidPng(colour, 64, 48), ARCHIVE_T0 + i * 60_000));
    const [newest, oldest] = store.select({ canvas: 'wall-3' });
    await store.close();
    const env = {
      EASEL_OPERATOR_TOKEN: TOKEN,
      EASEL_ARCHIVE_DIR: kept.dir,
      EASEL_ARCHIVE_MIN_FREE_MB: '0',
      EASEL_ARCHIVE_MAX_AGE_DAYS: '0',
      EASEL_FOLDER: art.dir,
      EASEL_STATE_FILE: path.join(stateDir.dir, 'state.json'),
      EASEL_CANVASES: JSON.stringify([{ slug: 'lobby' }, { slug: 'foyer' }]),
    };
    const put = (s: TestServer, slug: string, body: unknown) =>
      fetch(s.http(`/api/canvases/${slug}/source`), { method: 'PUT', headers: auth, body: JSON.stringify(body) });
    const state = async (s: TestServer, slug: string) =>
      ((await (await fetch(s.http(`/api/canvases/${slug}`))).json()) as { source: { kind: string } }).source.kind;
    try {
      const first = await startTestServer(env);
      try {
        expect(await first.server.archive!.ready).toBe(true);
        expect((await put(first, 'lobby', { type: 'archive', canvas: 'wall-3', order: 'shuffle' })).status).toBe(200);
        // Only the newest frame; it is deleted before the next start, so this selection matches nothing then.
        expect((await put(first, 'foyer', { type: 'archive', canvas: 'wall-3', from: iso(ARCHIVE_T0 + 30_000) })).status).toBe(200);
        const gone = await fetch(first.http(`/api/archive/${newest!.id}`), {
          method: 'DELETE',
          headers: { authorization: auth.authorization },
        });
        expect(gone.status).toBe(200);
      } finally {
        await first.close();
      }

      const second = await startTestServer(env);
      try {
        const display = new DisplayClient(second.ws('lobby'));
        displays.push(display);
        await vi.waitFor(() => expect(received(display)).toContain(`a-${oldest!.id}`), { timeout: 15_000, interval: 100 });
        expect(await state(second, 'lobby')).toBe('archive');
        expect(second.logs.some((l) => String(l.msg) === 'Canvas "lobby" plays its saved archive selection again')).toBe(true);
        await vi.waitFor(
          () =>
            expect(second.logs.filter((l) => String(l.msg).startsWith('Saved archive selection of "foyer" not restored'))).toHaveLength(1),
          { timeout: 10_000 },
        );
        expect(await state(second, 'foyer')).toBe('folder');
        // And the state file forgets foyer's selection: the next start does not try it again.
        await vi.waitFor(() => expect(JSON.parse(readFileSync(env.EASEL_STATE_FILE, 'utf8')).canvases.foyer?.source).toBeUndefined(), {
          timeout: 5000,
        });
        expect(JSON.parse(readFileSync(env.EASEL_STATE_FILE, 'utf8')).canvases.lobby.source).toMatchObject({
          type: 'archive',
          selection: { canvas: 'wall-3' },
          order: 'shuffle',
        });
      } finally {
        await second.close();
      }
    } finally {
      kept.remove();
      stateDir.remove();
    }
  }, 60_000);

  it('on a server without an archive, says so when asked to play from it', async () => {
    const bare = await startTestServer({ EASEL_OPERATOR_TOKEN: TOKEN, EASEL_CANVASES: JSON.stringify([{ slug: 'plain' }]) });
    try {
      const res = await fetch(bare.http('/api/canvases/plain/source'), {
        method: 'PUT',
        headers: auth,
        body: JSON.stringify({ type: 'archive', canvas: 'wall-1' }),
      });
      expect(res.status).toBe(400);
      expect(Object.values((await res.json()) as Record<string, unknown>).join(' ')).toMatch(
        /This server keeps no archive \(archive.dir is ""\)/,
      );
    } finally {
      await bare.close();
    }
  }, 20_000);
});
