import { spawn } from 'node:child_process';
import net from 'node:net';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DisplayClient, refusedUpgrade } from '../support/display-client.js';
import { blocksPng, noisyJpeg, putImage } from '../support/images.js';
import { MjpegClient } from '../support/mjpeg-client.js';
import { rawRequest } from '../support/raw-http.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A canvas of three 640x480 frames that differ, WebP only: MJPEG readers get JPEG made for them. */
async function serve(env: Record<string, string> = {}): Promise<TestServer> {
  const folder = tempFolder();
  cleanups.push(folder.remove);
  for (let i = 0; i < 3; i++) putImage(folder.dir, `${i}.png`, await blocksPng(8, 6, 80, i + 1));
  const server = await startTestServer({ EASEL_FOLDER: folder.dir, EASEL_FPS: '4', EASEL_FORMATS: 'webp', ...env });
  cleanups.push(() => server.close());
  return server;
}

function reader(server: TestServer, target: string): MjpegClient {
  const client = new MjpegClient(server.http(target));
  cleanups.push(() => client.close());
  return client;
}

const published = (server: TestServer, slug: string) => server.server.registry.get(slug)?.snapshot().counters.published ?? 0;

describe('ffmpeg reading /c/<slug>.mjpeg', () => {
  it('decodes JPEG frames of the size ?w= asks for, as many as the canvas publishes, and they change', async () => {
    const server = await serve();
    const out = tempFolder('easel-ffmpeg-');
    cleanups.push(out.remove);
    // What docs/api.md and the README give as the recording command, decoding every frame.
    const ffmpeg = spawn(
      'ffmpeg',
      [
        '-hide_banner',
        '-nostdin',
        '-i',
        server.http('/c/lobby.mjpeg?w=480&h=360'),
        '-fps_mode',
        'passthrough',
        path.join(out.dir, '%04d.jpg'),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let log = '';
    ffmpeg.stderr.on('data', (d: Buffer) => {
      log += d.toString();
    });
    const exited = new Promise<number | null>((resolve) => ffmpeg.once('exit', resolve));
    cleanups.push(() => ffmpeg.kill('SIGKILL'));
    const files = () => readdirSync(out.dir).length;

    // ffmpeg probes a few frames before its first output; the window starts after that.
    await vi.waitFor(() => expect(files()).toBeGreaterThanOrEqual(2), { timeout: 30_000, interval: 100 });
    const start = { files: files(), published: published(server, 'lobby'), at: performance.now() };
    await new Promise((r) => setTimeout(r, 5000));
    const end = { files: files(), published: published(server, 'lobby'), at: performance.now() };
    ffmpeg.kill('SIGINT');
    await exited;

    const seconds = (end.at - start.at) / 1000;
    const decoded = end.files - start.files;
    const sent = end.published - start.published;
    // The canvas's pace, loosely (a busy box delays slots), and ffmpeg decodes what it publishes.
    expect(sent).toBeGreaterThanOrEqual(Math.floor(4 * seconds * 0.5));
    expect(decoded).toBeGreaterThanOrEqual(sent - 2);
    expect(decoded).toBeLessThanOrEqual(sent + 2);
    expect(log).toMatch(/Input #0, mpjpeg/);
    expect(log).toMatch(/Video: mjpeg.*480x360/);

    const names = readdirSync(out.dir).sort().slice(0, 6);
    const sizes = await Promise.all(names.map((n) => sharp(path.join(out.dir, n)).metadata()));
    for (const m of sizes) expect([m.width, m.height]).toEqual([480, 360]);
    const distinct = new Set(names.map((n) => readFileSync(path.join(out.dir, n)).toString('base64')));
    expect(distinct.size).toBeGreaterThanOrEqual(2);
  });
});

describe('the MJPEG stream', () => {
  it('opens with the latest frame, one JPEG part per frame, and is listed among the displays, in the metrics and the events', async () => {
    const server = await serve();
    const seen: string[] = [];
    cleanups.push(server.server.events.subscribe((e) => e.type === 'display' && seen.push(`${e.slug} ${e.event} ${e.displays}`)));
    const first = reader(server, '/c/lobby.mjpeg');
    await vi.waitFor(() => expect(first.parts.length).toBeGreaterThanOrEqual(3), { timeout: 10_000 });
    const res = await first.response;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('multipart/x-mixed-replace; boundary=easel-mjpeg-frame');
    expect(res.headers['cache-control']).toContain('no-store');
    const part = first.parts[0]!;
    expect(part.headers['content-type']).toBe('image/jpeg');
    expect(Number(part.headers['content-length'])).toBe(part.jpeg.length);
    expect((await sharp(part.jpeg).metadata()).format).toBe('jpeg');

    // A second reader gets the frame now on screen at once, not after the next slot.
    const seqNow = Number(first.parts.at(-1)!.headers['x-easel-seq']);
    const second = reader(server, '/c/lobby.mjpeg');
    await vi.waitFor(() => expect(second.parts.length).toBeGreaterThanOrEqual(1), { timeout: 5000 });
    expect(Number(second.parts[0]!.headers['x-easel-seq'])).toBeGreaterThanOrEqual(seqNow);

    const canvas = (await (await fetch(server.http('/api/canvases/lobby'))).json()) as { displayList: Array<Record<string, unknown>> };
    expect(canvas.displayList).toHaveLength(2);
    for (const d of canvas.displayList) expect(d).toMatchObject({ mode: 'mjpeg', wire: 'mjpeg', rendition: 'jpeg:1024x1024:inside' });
    const metrics = await (await fetch(server.http('/metrics'))).text();
    expect(metrics).toContain('easel_displays_connected{canvas="lobby"} 2');
    expect(metrics).toContain('easel_displays_connected_by_wire{canvas="lobby",wire="mjpeg"} 2');

    // The readers leave: the canvas counts none.
    first.close();
    second.close();
    await vi.waitFor(() => expect(server.server.mjpeg.readers).toBe(0), { timeout: 5000 });
    expect(server.server.registry.get('lobby')?.channel.displays.size ?? 0).toBe(0);
    // Webhooks and OSC out hear of readers as of any display.
    expect(seen.slice(0, 2)).toEqual(['lobby connected 1', 'lobby connected 2']);
    expect(seen.slice(2).sort()).toEqual(['lobby lost 0', 'lobby lost 1']);
  });

  it('encodes one JPEG per frame and size, shared by every reader of that size', async () => {
    const server = await serve();
    const small = [
      reader(server, '/c/lobby.mjpeg?w=480'),
      reader(server, '/c/lobby.mjpeg?w=400&h=300'),
      reader(server, '/c/lobby.mjpeg?h=450'),
    ];
    const full = reader(server, '/c/lobby.mjpeg');
    await vi.waitFor(() => expect(Math.min(...[...small, full].map((r) => r.parts.length))).toBeGreaterThanOrEqual(4), { timeout: 10_000 });
    const channel = server.server.registry.get('lobby')!.channel;
    expect(
      channel
        .wantedSpecs()
        .map((s) => `${s.format}:${s.width}x${s.height}`)
        .sort(),
    ).toEqual(['jpeg:1024x1024', 'jpeg:480x480']); // the boxes; the 640x480 frames fit inside them
    // The same frame reaches the three small readers as the very same bytes.
    const bySeq = (r: MjpegClient, seq: string) => r.parts.find((p) => p.headers['x-easel-seq'] === seq)?.jpeg;
    const seq = small[0]!.parts.at(-2)!.headers['x-easel-seq']!;
    const bytes = small.map((r) => bySeq(r, seq));
    expect(bytes.every((b) => b?.equals(bytes[0]!))).toBe(true);
    expect((await sharp(bytes[0]!).metadata()).width).toBe(480);
    expect((await sharp(bySeq(full, seq) ?? full.parts.at(-1)!.jpeg).metadata()).width).toBe(640);
  });

  it('reaches readers when pages get frames by uWS topics (displays.fanOut = topics)', async () => {
    const server = await serve({ EASEL_DISPLAY_FAN_OUT: 'topics' });
    const page = new DisplayClient(server.ws('lobby'));
    cleanups.push(() => page.socket.terminate());
    const mjpeg = reader(server, '/c/lobby.mjpeg');
    await vi.waitFor(() => expect(Math.min(page.frames.length, mjpeg.parts.length)).toBeGreaterThanOrEqual(4), { timeout: 10_000 });
  });

  it("streams one screen of a tiled wall with ?tile=, at that screen's size", async () => {
    const grid = { columns: 2, rows: 1, bezelPx: 0, tileWidth: 320, tileHeight: 480 };
    const server = await serve({ EASEL_CANVASES: JSON.stringify([{ slug: 'wall', fit: 'cover', tiles: grid }]) });
    const right = reader(server, '/c/wall.mjpeg?tile=2,1');
    await vi.waitFor(() => expect(right.parts.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    const meta = await sharp(right.parts[0]!.jpeg).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['jpeg', 320, 480]);
    expect((await fetch(server.http('/c/wall.mjpeg?tile=3,1'))).status).toBe(400);
  });

  it('answers HEAD with the stream headers and no body', async () => {
    const server = await serve();
    const res = await fetch(server.http('/c/lobby.mjpeg'), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('multipart/x-mixed-replace; boundary=easel-mjpeg-frame');
    expect(await res.text()).toBe('');
    expect(server.server.mjpeg.readers).toBe(0);
  });

  it('refuses malformed, oversized and unknown input with a problem, and the page route still serves /c/<slug>', async () => {
    const server = await serve({ EASEL_CREATE_CANVASES_ON_CONNECT: 'false', EASEL_CANVASES: JSON.stringify([{ slug: 'lobby' }]) });
    const cases: Array<[string, number, RegExp]> = [
      ['/c/Lobby.mjpeg', 400, /Invalid canvas slug/],
      [`/c/${'a'.repeat(300)}.mjpeg`, 400, /300 characters long/],
      ['/c/.mjpeg', 400, /empty/],
      ['/c/lobby.mjpeg?w=abc', 400, /w: value "abc"/],
      ['/c/lobby.mjpeg?h=-4', 400, /h: value "-4"/],
      ['/c/lobby.mjpeg?w=0', 400, /w: value "0"/],
      ['/c/lobby.mjpeg?w=99999', 400, /w: value "99999"/],
      [`/c/lobby.mjpeg?w=${'9'.repeat(2000)}`, 400, /whole number of pixels/],
      ['/c/lobby.mjpeg?w=%E0%A4%A', 400, /w: value/],
      ['/c/lobby.mjpeg?tile=2,1', 400, /not a tiled wall/],
      ['/c/lobbi.mjpeg', 404, /did you mean "lobby"/],
    ];
    for (const [target, status, detail] of cases) {
      const res = await fetch(server.http(target));
      expect(res.status, target).toBe(status);
      expect(res.headers.get('content-type'), target).toContain('application/problem+json');
      const problem = (await res.json()) as { detail: string; hint: string };
      expect(problem.detail, target).toMatch(detail);
    }
    const hint = (await (await fetch(server.http('/c/lobbi.mjpeg'))).json()) as { hint: string };
    expect(hint.hint).toBe('Open /c/lobby.mjpeg');
    // Not ours: the display page's route answers (503 here: the pages are not built in this test).
    expect([200, 503]).toContain((await fetch(server.http('/c/lobby'))).status);
    expect((await fetch(server.http('/c/Lobby'))).status).toBe(400);
    expect(server.server.displays.refused.badRequest).toBeGreaterThanOrEqual(9);
    expect(server.server.handlerErrors).toBe(0);
    expect((await fetch(server.http('/healthz'))).status).toBe(200);
  });

  it('with a display token, streams only to a reader that brings it', async () => {
    const server = await serve({ EASEL_DISPLAY_TOKEN: 'display-token-0123456789' });
    const none = await fetch(server.http('/c/lobby.mjpeg'));
    expect(none.status).toBe(401);
    expect(((await none.json()) as { code: string }).code).toBe('EASEL_ERR_AUTH_REQUIRED');
    const wrong = await fetch(server.http('/c/lobby.mjpeg?token=guess-0123456789'));
    expect(wrong.status).toBe(403);
    expect(((await wrong.json()) as { code: string }).code).toBe('EASEL_ERR_AUTH_INVALID');
    // A name this server does not answer to (DNS rebinding): refused even with the token.
    const otherHost = await rawRequest(
      server.port,
      'GET /c/lobby.mjpeg?token=display-token-0123456789 HTTP/1.1\r\nhost: evil.example\r\n\r\n',
    );
    expect(otherHost.status).toBe(421);
    const good = reader(server, '/c/lobby.mjpeg?token=display-token-0123456789');
    await vi.waitFor(() => expect(good.parts.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    expect(server.server.displays.refused.token).toBe(3);
  });

  it('counts against the display limits: per canvas, overall with WebSocket displays, and connections a second', async () => {
    const server = await serve({ EASEL_MAX_DISPLAYS_PER_CANVAS: '2', EASEL_MAX_CONNECTIONS: '3' });
    const a = reader(server, '/c/lobby.mjpeg');
    const page = new DisplayClient(server.ws('lobby'));
    cleanups.push(() => page.socket.terminate());
    await page.opened;
    await vi.waitFor(() => expect(a.parts.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    const perCanvas = await fetch(server.http('/c/lobby.mjpeg'));
    expect(perCanvas.status).toBe(503);
    expect(((await perCanvas.json()) as { detail: string }).detail).toMatch(/"lobby" has 2 displays/);

    // Overall: an MJPEG reader of another canvas fills the server's third place; a page is then refused.
    const b = reader(server, '/c/hall.mjpeg');
    await vi.waitFor(() => expect(b.parts.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    expect((await refusedUpgrade(server.ws('hall'))).status).toBe(503);
    expect((await fetch(server.http('/c/hall.mjpeg'))).status).toBe(503);
    expect(server.server.displays.refused).toMatchObject({ displaysPerCanvas: 1, connections: 2 });
  });

  it('is refused with 429 when one address opens more readers a second than limits.connectionsPerSecond allows', async () => {
    const server = await serve({ EASEL_CONNECTIONS_PER_SECOND: '1', EASEL_CONNECTION_BURST: '2', EASEL_RATE_LIMIT_LOOPBACK: 'true' });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(server.http('/c/lobby.mjpeg'), { method: 'HEAD' });
      statuses.push(res.status);
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses).toContain(429);
  });
});

describe('a reader that never reads', () => {
  it('skips frames, is closed when stuck, and slows neither a page nor another reader', async () => {
    const folder = tempFolder();
    cleanups.push(folder.remove);
    // Noise encodes big: each JPEG part is about 1.5 MB, so the kernel's buffers fill in seconds.
    for (let i = 0; i < 2; i++) putImage(folder.dir, `${i}.jpg`, await noisyJpeg(1024, 1024, i + 1));
    const server = await startTestServer({
      EASEL_FOLDER: folder.dir,
      EASEL_FPS: '10',
      EASEL_FORMATS: 'jpeg',
      EASEL_JPEG_QUALITY: '100',
      EASEL_DISPLAY_STALL_SLOTS: '6',
      EASEL_DISPLAY_STALL_TIMEOUT_MS: '600000',
    });
    cleanups.push(() => server.close());

    // A raw socket asks for the stream and then never reads a byte.
    const stuck = net.connect(server.port, '127.0.0.1');
    cleanups.push(() => stuck.destroy());
    await new Promise((resolve) => stuck.once('connect', resolve));
    stuck.write('GET /c/noise.mjpeg HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
    stuck.pause();
    await vi.waitFor(() => expect(server.server.mjpeg.readers).toBe(1), { timeout: 10_000 });

    const page = new DisplayClient(server.ws('noise'));
    cleanups.push(() => page.socket.terminate());
    await page.opened;
    const other = reader(server, '/c/noise.mjpeg');
    const canvas = server.server.registry.get('noise')!;

    await vi.waitFor(() => expect(canvas.snapshot().counters.stalledClosed).toBe(1), { timeout: 30_000, interval: 50 });
    const warning = server.logs.find((l) => l.code === 'EASEL_ERR_DISPLAY_TOO_SLOW');
    expect(warning).toMatchObject({ slug: 'noise', skippedInARow: 6 });
    // Its response is let go on the server: after the grace it is shut hard.
    await vi.waitFor(() => expect(server.server.mjpeg.readers).toBe(1), { timeout: 10_000, interval: 50 });
    expect(server.logs.some((l) => l.msg === 'Stuck display did not drain: shutting its socket hard')).toBe(true);
    expect(canvas.snapshot().displays).toBe(2);

    // The others keep up with what the canvas publishes (compared with its count, not a clock).
    const before = { page: page.frames.length, other: other.parts.length, published: published(server, 'noise') };
    await vi.waitFor(() => expect(published(server, 'noise') - before.published).toBeGreaterThanOrEqual(10), { timeout: 20_000 });
    const sent = published(server, 'noise') - before.published;
    expect(page.frames.length - before.page).toBeGreaterThanOrEqual(sent - 3);
    expect(other.parts.length - before.other).toBeGreaterThanOrEqual(sent - 3);
    expect(server.server.handlerErrors).toBe(0);
  });
});

describe('a reader that stops reading for a while', () => {
  it('skips frames meanwhile and, reading again, gets the newest frame and the ones after', async () => {
    const folder = tempFolder();
    cleanups.push(folder.remove);
    for (let i = 0; i < 2; i++) putImage(folder.dir, `${i}.jpg`, await noisyJpeg(1024, 1024, i + 1));
    const server = await startTestServer({
      EASEL_FOLDER: folder.dir,
      EASEL_FPS: '10',
      EASEL_FORMATS: 'jpeg',
      EASEL_JPEG_QUALITY: '100',
      // Never stuck for this test: it is only slow.
      EASEL_DISPLAY_STALL_SLOTS: '100000',
      EASEL_DISPLAY_STALL_TIMEOUT_MS: '600000',
    });
    cleanups.push(() => server.close());
    const slow = reader(server, '/c/noise.mjpeg');
    const res = await slow.response;
    await vi.waitFor(() => expect(slow.parts.length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    res.pause();
    const skipped = async () => {
      const c = (await (await fetch(server.http('/api/canvases/noise'))).json()) as { displayList: Array<{ framesSkipped: number }> };
      return c.displayList[0]?.framesSkipped ?? 0;
    };
    // Blocked: the kernel's buffers are full and it skips frames, with at most one part queued in uWS.
    await vi.waitFor(async () => expect(await skipped()).toBeGreaterThanOrEqual(5), { timeout: 30_000, interval: 200 });
    const parts = slow.parts.length;
    res.resume();
    // Its queue drains, and the frames it gets are current again.
    await vi.waitFor(
      () => {
        const seq = Number(slow.parts.at(-1)?.headers['x-easel-seq']);
        expect(slow.parts.length).toBeGreaterThan(parts + 5);
        expect(seq).toBeGreaterThanOrEqual(published(server, 'noise') - 2);
      },
      { timeout: 20_000, interval: 100 },
    );
    expect(server.server.mjpeg.readers).toBe(1);
  });
});
