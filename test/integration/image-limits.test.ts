import { openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { EaselEvent } from '../../server/control/events.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { pngBomb } from '../support/png-bomb.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

/**
 * Issue 9 item 5: render.maxFileBytes and render.limitInputPixels hold for every way an image
 * comes in, and an image over them is refused with 413 before it is read or decoded. The limits
 * here are small (1 MB, 4 Mpx) so the refused files stay cheap to make.
 */
const TOKEN = 'image-limits-operator-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;
let files: ReturnType<typeof tempFolder>;
const heard: EaselEvent[] = [];

const api = (p: string, init: RequestInit = {}) => fetch(server.http(p), init);
const setStill = (file: string) =>
  api('/api/canvases/wall/source', { method: 'PUT', headers: json, body: JSON.stringify({ type: 'still', path: file }) });
const upload = (body: Uint8Array) =>
  api('/api/canvases/wall/image', { method: 'POST', headers: { ...auth, 'content-type': 'image/png' }, body });
const sourceKind = async () => ((await (await api('/api/canvases/wall')).json()) as { source: { kind: string } }).source.kind;

/** A 100 MB file that takes no disk and no time to make: only its size is real. */
function sparseFile(file: string, bytes: number): string {
  const fd = openSync(file, 'w');
  ftruncateSync(fd, bytes);
  closeSync(fd);
  return file;
}

beforeAll(async () => {
  folder = tempFolder();
  files = tempFolder();
  putImage(folder.dir, 'a.png', await solidPng('#ff0000'));
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_FOLDER: folder.dir,
    EASEL_MAX_FILE_BYTES: '1000000',
    EASEL_LIMIT_INPUT_PIXELS: '4000000',
    EASEL_CANVASES: JSON.stringify([{ slug: 'wall', source: { type: 'folder' } }]),
  });
  server.server.events.subscribe((event) => heard.push(event));
});

afterAll(async () => {
  await server.close();
  folder.remove();
  files.remove();
});

describe('a still from a path', () => {
  it('over render.maxFileBytes is a 413 from its size alone: the 100 MB file is never read', async () => {
    const huge = sparseFile(path.join(files.dir, 'huge.jpg'), 100 * 1024 * 1024);
    const before = process.memoryUsage();
    const res = await setStill(huge);
    const after = process.memoryUsage();
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'EASEL_ERR_IMAGE_TOO_LARGE', bytes: 100 * 1024 * 1024, maxFileBytes: 1_000_000 });
    // Reading it would have put 100 MB into a Buffer (external memory) at once.
    expect(after.external + after.arrayBuffers - before.external - before.arrayBuffers).toBeLessThan(50 * 1024 * 1024);
    expect(await sourceKind()).toBe('folder');
  });

  it('over render.limitInputPixels is a 413 from its header', async () => {
    const bomb = path.join(files.dir, 'bomb.png');
    writeFileSync(bomb, pngBomb(30_000, 30_000));
    const res = await setStill(bomb);
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'EASEL_ERR_IMAGE_TOO_LARGE', width: 30_000, height: 30_000 });
    expect(await sourceKind()).toBe('folder');
  });

  it('that is not an image is a 415, and one within the limits is shown', async () => {
    const text = path.join(files.dir, 'notes.jpg');
    writeFileSync(text, 'not an image at all');
    expect((await setStill(text)).status).toBe(415);
    const ok = putImage(files.dir, 'ok.png', await solidPng('#00ff00', 64, 48));
    expect((await setStill(ok)).status).toBe(200);
    expect(await sourceKind()).toBe('still');
  });

  it('in a playlist step fails that step with EASEL_ERR_IMAGE_TOO_LARGE and shows nothing of it', async () => {
    const huge = sparseFile(path.join(files.dir, 'huge-step.jpg'), 100 * 1024 * 1024);
    const yaml = ['steps:', `  - still: ${huge}`, '    duration: 5s'].join('\n');
    expect(
      (await api('/api/playlists/big-still', { method: 'PUT', headers: { ...auth, 'content-type': 'application/yaml' }, body: yaml }))
        .status,
    ).toBe(201);
    expect(
      (await api('/api/canvases/wall/playlist', { method: 'POST', headers: json, body: JSON.stringify({ name: 'big-still' }) })).status,
    ).toBe(200);
    await vi.waitFor(
      () =>
        expect(heard).toContainEqual(
          expect.objectContaining({
            type: 'playlist',
            name: 'big-still',
            event: 'error',
            detail: expect.objectContaining({ error: expect.objectContaining({ code: 'EASEL_ERR_IMAGE_TOO_LARGE' }) }),
          }),
        ),
      { timeout: 5000 },
    );
    await api('/api/canvases/wall/playlist', { method: 'DELETE', headers: auth });
  });
});

describe('an upload', () => {
  it('of a 30,000² PNG is a 413 (not 415), from its header', async () => {
    const res = await upload(pngBomb(30_000, 30_000));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'EASEL_ERR_IMAGE_TOO_LARGE', width: 30_000, height: 30_000 });
  });

  it('over render.maxFileBytes (though under operator.maxBodyBytes) is a 413', async () => {
    const res = await upload(Buffer.alloc(1_200_000, 7));
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ code: 'EASEL_ERR_IMAGE_TOO_LARGE', maxFileBytes: 1_000_000 });
  });

  it('within the limits is shown', async () => {
    const display = new DisplayClient(server.ws('wall'));
    await display.opened;
    const blue = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0000ff' } })
      .png()
      .toBuffer();
    const res = await upload(blue);
    expect(res.status).toBe(202);
    const { imageId } = (await res.json()) as { imageId: string };
    await vi.waitFor(() => expect(display.frames.some((f) => f.header.imageId === imageId)).toBe(true), { timeout: 5000 });
    display.close();
  });
});
