import { afterEach, describe, expect, it, vi } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { noisyJpeg, putImage } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const STALL_SLOTS = 6;

async function connect(server: TestServer, slug: string) {
  const client = new DisplayClient(server.ws(slug));
  // terminate, not close: a display that never reads would never answer a close handshake.
  cleanups.push(() => client.socket.terminate());
  await client.opened;
  return client;
}

describe('a display that never reads', () => {
  it('is closed after stallSlots skipped frames, its server socket gone, while the others keep getting frames', async () => {
    const folder = tempFolder();
    cleanups.push(folder.remove);
    // Two frames of noise (about 2.5 MB each as WebP): rendered once, then looped from the cache.
    for (let i = 0; i < 2; i++) putImage(folder.dir, `${i}.jpg`, await noisyJpeg(1024, 1024, i + 1));
    const server = await startTestServer({
      EASEL_FOLDER: folder.dir,
      EASEL_FPS: '10',
      EASEL_WEBP_QUALITY: '100',
      EASEL_DISPLAY_STALL_SLOTS: String(STALL_SLOTS),
      // Long, so the slots rule is the one that acts.
      EASEL_DISPLAY_STALL_TIMEOUT_MS: '600000',
      EASEL_DISPLAY_MAX_BACKPRESSURE_BYTES: String(64 * 1024),
    });
    cleanups.push(() => server.close());

    const stuck = await connect(server, 'noise');
    // Stops reading: TCP fills up, then the server's send buffer.
    (stuck.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const healthy = await Promise.all([1, 2].map(() => connect(server, 'noise')));
    const canvas = server.server.registry.get('noise')!;

    await vi.waitFor(() => expect(canvas.snapshot().counters.stalledClosed).toBe(1), { timeout: 20_000, interval: 50 });
    const warning = server.logs.find((l) => l.code === 'EASEL_ERR_DISPLAY_TOO_SLOW');
    // Closed at the slot that made stallSlots in a row, not after a timeout.
    expect(warning).toMatchObject({ slug: 'noise', skippedInARow: STALL_SLOTS });
    expect(canvas.snapshot().displays).toBe(2);
    // Its socket is let go on the server: it never drains, so after the grace it is shut hard.
    await vi.waitFor(() => expect(server.server.displays.sockets.size).toBe(2), { timeout: 5000, interval: 50 });
    await vi.waitFor(() => expect(server.logs.some((l) => l.msg === 'Stuck display did not drain: shutting its socket hard')).toBe(true), {
      timeout: 5000,
    });
    expect(server.logs.filter((l) => l.code === 'EASEL_ERR_DISPLAY_TOO_SLOW')).toHaveLength(1);

    // The others keep up with what the canvas publishes (compared with its count, not a clock).
    const before = healthy.map((d) => d.frames.length);
    const publishedBefore = canvas.snapshot().counters.published;
    await vi.waitFor(() => expect(canvas.snapshot().counters.published - publishedBefore).toBeGreaterThanOrEqual(10), { timeout: 10_000 });
    const published = canvas.snapshot().counters.published - publishedBefore;
    healthy.forEach((d, i) => expect(d.frames.length - before[i]!).toBeGreaterThanOrEqual(Math.floor(published * 0.7)));
    expect(canvas.snapshot().counters.stalledClosed).toBe(1);
  });
});
