import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DisplayClient, refusedUpgrade } from '../support/display-client.js';
import { meanColour, noisyJpeg, putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function serve(env: Record<string, string>, setupFolder: (dir: string) => Promise<void>) {
  const folder = tempFolder();
  cleanups.push(folder.remove);
  await setupFolder(folder.dir);
  const server = await startTestServer({ EASEL_FOLDER: folder.dir, ...env });
  cleanups.push(() => server.close());
  return { server, dir: folder.dir };
}

async function connect(server: TestServer, slugAndQuery: string) {
  const client = new DisplayClient(server.ws(slugAndQuery));
  cleanups.push(() => client.close());
  await client.opened;
  return client;
}

const colourOf = async (image: Uint8Array) => (await meanColour(image)).map((v) => (v > 128 ? 1 : 0)).join('');

describe('a slow display', () => {
  it('does not lower the rate of the others, skips frames, and is closed when stuck', async () => {
    const { server } = await serve(
      // Closed after 10 skipped frames, not after a time: a busy box renders fewer frames a second.
      { EASEL_FPS: '10', EASEL_DISPLAY_STALL_SLOTS: '10', EASEL_DISPLAY_STALL_TIMEOUT_MS: '600000', EASEL_WEBP_QUALITY: '100' },
      async (dir) => {
        for (let i = 0; i < 4; i++) putImage(dir, `${i}.jpg`, await noisyJpeg(1024, 1024, i + 1));
      },
    );
    const stuck = await connect(server, 'noise');
    // A display that stops reading: TCP fills up, then the server's send buffer.
    (stuck.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const healthy = await Promise.all([1, 2, 3].map(() => connect(server, 'noise')));
    const canvas = server.server.registry.get('noise')!;
    const publishedAtJoin = canvas.snapshot().counters.published;

    await vi.waitFor(() => expect(canvas.snapshot().counters.stalledClosed).toBe(1), { timeout: 30_000, interval: 100 });
    expect(canvas.snapshot().displays).toBe(3);
    expect(canvas.snapshot().counters.skippedSends).toBeGreaterThan(0);
    const warning = server.logs.find((l) => l.code === 'EASEL_ERR_DISPLAY_TOO_SLOW');
    expect(warning).toMatchObject({ slug: 'noise' });

    // The healthy displays kept up with the canvas while the stuck one was skipped and closed,
    // and keep up after. Compared with what the canvas published, so a slow box does not matter.
    const keptUp = (received: number, published: number) => expect(received).toBeGreaterThanOrEqual(Math.floor(published * 0.8));
    const published = canvas.snapshot().counters.published - publishedAtJoin;
    expect(published).toBeGreaterThan(5);
    for (const d of healthy) keptUp(d.frames.length, published);
    const before = healthy.map((d) => d.frames.length);
    const publishedBefore = canvas.snapshot().counters.published;
    await vi.waitFor(() => expect(canvas.snapshot().counters.published - publishedBefore).toBeGreaterThan(5), { timeout: 15_000 });
    const publishedAfter = canvas.snapshot().counters.published - publishedBefore;
    healthy.forEach((d, i) => keptUp(d.frames.length - before[i]!, publishedAfter));
  });
});

describe('the folder source on a live canvas', () => {
  it('skips a corrupt file and an oversized one while the canvas keeps streaming', async () => {
    const { server } = await serve({ EASEL_LIMIT_INPUT_PIXELS: '1000000' }, async (dir) => {
      putImage(dir, 'a-red.png', await solidPng('#ff0000'));
      const jpeg = await noisyJpeg(400, 400);
      putImage(dir, 'b-truncated.jpg', jpeg.subarray(0, jpeg.length / 3));
      putImage(dir, 'c-blue.png', await solidPng('#0000ff'));
      putImage(dir, 'd-huge.png', await solidPng('#00ff00', 1200, 1000));
      putImage(dir, 'e-not-an-image.jpg', Buffer.from('this is text'));
    });
    const d = await connect(server, 'files');
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThanOrEqual(8), { timeout: 6000 });
    const colours = new Set(await Promise.all(d.frames.map((f) => colourOf(f.image))));
    expect(colours).toEqual(new Set(['100', '001']));
    const skipped = server.logs.filter((l) => String(l.msg).startsWith('Skipping image'));
    expect(skipped.map((l) => l.file).sort()).toEqual(['b-truncated.jpg', 'd-huge.png', 'e-not-an-image.jpg']);
    expect(skipped.find((l) => l.file === 'd-huge.png')).toMatchObject({ code: 'EASEL_ERR_IMAGE_TOO_LARGE' });
    expect(String(skipped.find((l) => l.file === 'd-huge.png')!.msg)).toContain('1200x1000');
    expect(skipped.find((l) => l.file === 'b-truncated.jpg')).toMatchObject({ code: 'EASEL_ERR_IMAGE_UNREADABLE' });
    const snapshot = server.server.registry.get('files')!.snapshot();
    expect(snapshot.source.details).toMatchObject({ images: 5, unusable: 3 });
  });

  it('shows a file dropped into the folder without a restart', async () => {
    const { server, dir } = await serve({}, async (dir) => {
      putImage(dir, 'a.png', await solidPng('#ff0000'));
      putImage(dir, 'b.png', await solidPng('#0000ff'));
    });
    const d = await connect(server, 'drop');
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThan(2), { timeout: 5000 });
    writeFileSync(path.join(dir, 'c.png'), await solidPng('#00ff00'));
    await vi.waitFor(
      async () => {
        const latest = d.frames.slice(-4);
        const seen = await Promise.all(latest.map((f) => colourOf(f.image)));
        expect(seen).toContain('010');
      },
      { timeout: 5000, interval: 100 },
    );
  });

  it('holds on a single image instead of resending it', async () => {
    const { server } = await serve({}, async (dir) => {
      putImage(dir, 'only.png', await solidPng('#ff0000'));
    });
    const d = await connect(server, 'single');
    await vi.waitFor(() => expect(d.frames.length).toBe(1), { timeout: 5000 });
    await new Promise((r) => setTimeout(r, 1200));
    expect(d.frames).toHaveLength(1);
    expect(server.server.registry.get('single')!.snapshot().counters.held).toBeGreaterThanOrEqual(3);
  });
});

describe('protocol guards', () => {
  it('refuses a bad slug with 400 and a reason before the upgrade', async () => {
    const { server } = await serve({}, async () => undefined);
    const refused = await refusedUpgrade(server.ws('Not_A_Slug'));
    expect(refused.status).toBe(400);
    expect(JSON.parse(refused.body)).toMatchObject({ status: 400, title: 'Invalid canvas slug', code: 'EASEL_ERR_SLUG_INVALID' });
    expect(JSON.parse(refused.body).detail).toContain('"Not_A_Slug"');
    expect((await refusedUpgrade(server.ws(`a${'b'.repeat(63)}`))).status).toBe(400);
    expect((await refusedUpgrade(server.ws('ok?format=xml'))).status).toBe(400);
  });

  it('closes a display that sends a message over 4 KiB with 1009', async () => {
    const { server } = await serve({}, async (dir) => {
      putImage(dir, 'a.png', await solidPng('#ff0000'));
    });
    const d = await connect(server, 'big-message');
    d.socket.send(JSON.stringify({ type: 'ping', t0: 1, pad: 'x'.repeat(3000) })); // under the limit: fine
    d.socket.send('x'.repeat(4097));
    const { code } = await d.closed;
    expect(code).toBe(1009);
  });
});
