import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { meanColour, putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

const TOKEN = 'playlist-token';
const auth = { authorization: `Bearer ${TOKEN}` };
let server: TestServer;
let red: ReturnType<typeof tempFolder>;
let lists: ReturnType<typeof tempFolder>;

beforeAll(async () => {
  red = tempFolder();
  putImage(red.dir, 'red-1.png', await solidPng('#ff0000'));
  putImage(red.dir, 'red-2.png', await solidPng('#ee0000'));
  putImage(red.dir, 'green.png', await solidPng('#00ff00'));
  lists = tempFolder();
  server = await startTestServer({ EASEL_OPERATOR_TOKEN: TOKEN, EASEL_FOLDER: red.dir, EASEL_PLAYLISTS_DIR: lists.dir });
});

afterAll(async () => {
  await server.close();
  red.remove();
  lists.remove();
});

const colour = async (image: Uint8Array) => (await meanColour(image)).map((v) => (v > 128 ? 1 : 0)).join('');

describe('playlists through the API', () => {
  it('stores a playlist, runs its steps on a canvas, reports its position, and stops', async () => {
    const yaml = [
      'loop: true',
      'steps:',
      `  - still: ${path.join(red.dir, 'green.png')}`,
      '    duration: 2s',
      `  - folder: ${red.dir}`,
      '    duration: 2s',
    ].join('\n');
    const put = await fetch(server.http('/api/playlists/green-then-red'), {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/yaml' },
      body: yaml,
    });
    expect(put.status).toBe(201);
    const listed = (await (await fetch(server.http('/api/playlists'))).json()) as { playlists: Array<{ name: string; status: string }> };
    expect(listed.playlists).toContainEqual(expect.objectContaining({ name: 'green-then-red', status: 'ok' }));

    const display = new DisplayClient(server.ws('show'));
    await display.opened;
    const started = await fetch(server.http('/api/canvases/show/playlist'), {
      method: 'POST',
      headers: { ...auth, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'green-then-red' }),
    });
    expect(started.status).toBe(200);
    expect(await started.json()).toMatchObject({ playlist: { playlist: 'green-then-red', stepIndex: 0, stepCount: 2 } });
    await vi.waitFor(async () => expect(await colour(display.frames.at(-1)!.image)).toBe('010'), { timeout: 5000 });
    await vi.waitFor(async () => expect(await colour(display.frames.at(-1)!.image)).toBe('100'), { timeout: 6000 });
    const state = (await (await fetch(server.http('/api/canvases/show'))).json()) as { playlist: { stepIndex: number } };
    expect(state.playlist.stepIndex).toBe(1);

    const stopped = await fetch(server.http('/api/canvases/show/playlist'), { method: 'DELETE', headers: auth });
    expect(stopped.status).toBe(200);
    expect(await stopped.json()).toMatchObject({ playlist: null });
    display.close();
  });

  it('refuses a broken playlist naming the line and column, and keeps the old version', async () => {
    const bad = await fetch(server.http('/api/playlists/green-then-red'), {
      method: 'PUT',
      headers: { ...auth, 'content-type': 'application/yaml' },
      body: 'loop: true\nsteps:\n  - promt: "typo"\n    duration: 5s\n',
    });
    expect(bad.status).toBe(400);
    const problem = (await bad.json()) as { code: string; detail: string; line: number; column: number };
    expect(problem.code).toBe('EASEL_ERR_PLAYLIST_INVALID');
    expect(problem).toMatchObject({ line: 3 });
    expect(problem.detail).toContain('line 3');
    const kept = (await (await fetch(server.http('/api/playlists/green-then-red'))).json()) as {
      status: string;
      playlist: { steps: unknown[] };
    };
    expect(kept).toMatchObject({ status: 'ok' });
    expect(kept.playlist.steps).toHaveLength(2);
  });

  it('picks up a file edited on disk, and deletes through the API', async () => {
    writeFileSync(path.join(lists.dir, 'from-disk.yaml'), `steps:\n  - pause:\n    duration: 1s\n`);
    await vi.waitFor(async () => expect((await fetch(server.http('/api/playlists/from-disk'))).status).toBe(200), { timeout: 8000 });
    expect((await fetch(server.http('/api/playlists/from-disk'), { method: 'DELETE', headers: auth })).status).toBe(200);
    expect((await fetch(server.http('/api/playlists/from-disk'))).status).toBe(404);
  });
});
