import { afterAll, describe, expect, it, vi } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { openEventStream, type HeldStream } from '../support/event-stream.js';
import { putImage, solidPng } from '../support/images.js';
import { startMain } from '../support/main-process.js';
import { tempFolder } from '../support/server.js';

const cleanups: Array<() => unknown> = [];
afterAll(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('a server running short of file descriptors', () => {
  it('refuses new connections with a problem, keeps /healthz and the canvas going, and marks no image bad', async () => {
    const images = tempFolder();
    const playlists = tempFolder();
    cleanups.push(images.remove, playlists.remove);
    const colours = [
      '#ff0000',
      '#00ff00',
      '#0000ff',
      '#ffff00',
      '#00ffff',
      '#ff00ff',
      '#808080',
      '#ffffff',
      '#000000',
      '#804000',
      '#008040',
      '#400080',
    ];
    for (const [i, colour] of colours.entries()) putImage(images.dir, `${String(i).padStart(2, '0')}.png`, await solidPng(colour, 64, 48));

    // A limit of 256 with 64 kept free: the guard refuses at about 192 open descriptors.
    const main = startMain(
      [],
      {
        EASEL_HOST: '127.0.0.1',
        EASEL_PORT: '0',
        EASEL_FOLDER: images.dir,
        EASEL_PLAYLISTS_DIR: playlists.dir,
        EASEL_CANVASES: JSON.stringify([{ slug: 'stage' }]),
        EASEL_RENDER_CACHE_MB: '0',
        EASEL_FD_HEADROOM: '64',
        EASEL_MAX_EVENT_STREAMS: '10000',
        EASEL_EVENT_STREAMS_PER_ADDRESS: '10000',
      },
      { openFiles: 256 },
    );
    cleanups.push(() => main.child.kill('SIGKILL'));
    const port = await main.port;
    const display = new DisplayClient(`ws://127.0.0.1:${port}/ws/stage`);
    cleanups.push(() => display.close());
    await display.opened;

    // Hold event streams, as a flood would, until the server starts refusing.
    const held: HeldStream[] = [];
    cleanups.push(() => held.forEach((s) => s.close()));
    let refusal: HeldStream | undefined;
    for (let i = 0; i < 400 && !refusal; i++) {
      const stream = await openEventStream(port);
      if (stream.status === 200) held.push(stream);
      else refusal = stream;
    }
    expect(refusal?.status).toBe(503);
    expect(JSON.parse(refusal!.body)).toMatchObject({ code: 'EASEL_ERR_LIMIT_REACHED', hint: expect.stringContaining('open-files limit') });
    expect(held.length).toBeGreaterThan(100);
    expect(held.length).toBeLessThan(230);

    // At the edge: other requests are refused the same way, health still answers. The count of
    // open descriptors moves by a few as the canvas reads its images, so now and then one more
    // stream gets in (and is held, keeping the server at the edge); most are refused.
    let refused = 0;
    for (let i = 0; i < 20; i++) {
      const stream = await openEventStream(port);
      if (stream.status === 200) held.push(stream);
      else {
        expect(stream.status).toBe(503);
        refused++;
      }
    }
    expect(refused).toBeGreaterThanOrEqual(15);
    expect(held.length).toBeLessThan(230);
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${port}/api/canvases`)).status).toBe(503), {
      timeout: 5000,
      interval: 100,
    });

    // The canvas goes on reading its images: every one of the twelve is shown again.
    const before = display.frames.length;
    await vi.waitFor(() => expect(new Set(display.frames.slice(before).map((f) => f.header.imageId)).size).toBe(12), {
      timeout: 15_000,
      interval: 100,
    });

    // Afterwards nothing is marked bad, and the refusals were logged in one line.
    for (const s of held.splice(0)) s.close();
    await vi.waitFor(async () => expect((await fetch(`http://127.0.0.1:${port}/api/canvases/stage`)).status).toBe(200), { timeout: 5000 });
    const canvas = (await (await fetch(`http://127.0.0.1:${port}/api/canvases/stage`)).json()) as {
      source: { state: string; details: Record<string, unknown> };
    };
    expect(canvas.source).toMatchObject({ state: 'ok', details: { images: 12, unusable: 0, skippedTotal: 0 } });
    const lines = main.stdout.map((l) => JSON.parse(l) as { msg: string; level: number });
    expect(lines.filter((l) => l.msg.startsWith('Skipping image'))).toEqual([]);
    expect(lines.filter((l) => l.msg.startsWith('Refusing new connections'))).toHaveLength(1);
  }, 60_000);
});
