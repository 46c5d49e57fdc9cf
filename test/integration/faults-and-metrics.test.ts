import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import WebSocket from 'ws';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DisplayClient, refusedUpgrade } from '../support/display-client.js';
import { noisyJpeg, putImage, solidPng } from '../support/images.js';
import { startMain } from '../support/main-process.js';
import { pngBomb } from '../support/png-bomb.js';
import { startTestServer, tempFolder } from '../support/server.js';
import { PROJECT_ROOT } from '../../server/config.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function colourFolder() {
  const folder = tempFolder();
  cleanups.push(folder.remove);
  putImage(folder.dir, 'a.png', await solidPng('#ff0000'));
  putImage(folder.dir, 'b.png', await solidPng('#0000ff'));
  return folder.dir;
}

async function serve(env: Record<string, string> = {}) {
  const server = await startTestServer({ EASEL_FOLDER: await colourFolder(), ...env });
  cleanups.push(() => server.close());
  return server;
}

async function display(url: string) {
  const d = new DisplayClient(url);
  cleanups.push(() => d.close());
  await d.opened;
  return d;
}

/** The value of one sample in Prometheus text, or undefined. */
const sample = (text: string, name: string) => {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
};

describe('/metrics', () => {
  it('exposes frames, displays, render and pacing timings, and process metrics per canvas', async () => {
    const server = await serve();
    await display(server.ws('m1'));
    const d = await display(server.ws('m1'));
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThan(3), { timeout: 5000 });
    const res = await fetch(server.http('/metrics'));
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(sample(text, 'easel_displays_connected{canvas="m1"}')).toBe(2);
    expect(sample(text, 'easel_frames_published_total{canvas="m1"}')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'easel_render_seconds_count')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'easel_pacing_deviation_seconds_count{canvas="m1"}')).toBeGreaterThanOrEqual(3);
    expect(sample(text, 'easel_source_state{canvas="m1",kind="folder",state="ok"}')).toBe(1);
    expect(sample(text, 'process_resident_memory_bytes')).toBeGreaterThan(10_000_000);
    expect(
      sample(
        text,
        `easel_build_info{version="${(JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version: string }).version}",node="${process.version}"}`,
      ),
    ).toBe(1);
    expect(sample(text, 'easel_render_cache_bytes')).toBeGreaterThan(0); // the folder's renditions, kept for the next loop
    // Node's default metrics under the names the usual dashboards query, unprefixed.
    for (const name of [
      'process_cpu_seconds_total',
      'process_open_fds',
      'process_max_fds',
      'process_start_time_seconds',
      'nodejs_heap_size_used_bytes',
      'nodejs_heap_size_total_bytes',
      'nodejs_external_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_version_info',
    ])
      expect(text, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    expect(text).toMatch(/^# TYPE nodejs_gc_duration_seconds histogram/m);
    // Gauges may not end in _total: prom-client's nodejs_active_*_total are dropped (their per-type gauges stay).
    expect(text).not.toMatch(/^nodejs_active_\w+_total/m);
    expect(text).toMatch(/^# TYPE nodejs_active_handles gauge/m);
  });

  // CI installs promtool (Debian package prometheus, in .ci/run); elsewhere this test says it is skipped.
  const promtool = spawnSync('promtool', ['--version']).status === 0;
  it.skipIf(!promtool)(
    `passes promtool check metrics${promtool ? '' : ' (SKIPPED: promtool is not installed; apt-get install prometheus)'}`,
    async () => {
      const server = await serve();
      const d = await display(server.ws('m3'));
      await vi.waitFor(() => expect(d.frames.length).toBeGreaterThan(3), { timeout: 5000 });
      const text = await (await fetch(server.http('/metrics'))).text();
      expect(sample(text, 'easel_frames_published_total{canvas="m3"}')).toBeGreaterThanOrEqual(3);
      const check = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(`${check.stdout}${check.stderr}`).toBe('');
      expect(check.status).toBe(0);
    },
  );

  it('lists each display of a canvas with its address, user agent and frames sent', async () => {
    const server = await serve();
    const d = await display(server.ws('m2'));
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThan(2), { timeout: 5000 });
    const body = (await (await fetch(server.http('/api/canvases/m2'))).json()) as { displayList: Array<Record<string, unknown>> };
    expect(body.displayList).toHaveLength(1);
    expect(body.displayList[0]).toMatchObject({ address: expect.stringContaining('127.0.0.1'), mode: 'binary', framesSkipped: 0 });
    expect(body.displayList[0]!.framesSent).toBeGreaterThanOrEqual(2);
  });
});

describe('faults', () => {
  it('refuses a pixel bomb and a truncated JPEG from their bytes while the canvas keeps streaming', async () => {
    const folder = tempFolder();
    cleanups.push(folder.remove);
    putImage(folder.dir, 'a-good.png', await solidPng('#ff0000'));
    putImage(folder.dir, 'b-bomb.png', pngBomb(30_000, 30_000));
    const jpeg = await noisyJpeg(600, 600);
    putImage(folder.dir, 'c-truncated.jpg', jpeg.subarray(0, Math.floor(jpeg.length * 0.6)));
    putImage(folder.dir, 'd-good.png', await solidPng('#0000ff'));
    expect((await sharp(`${folder.dir}/b-bomb.png`, { limitInputPixels: false }).metadata()).width).toBe(30_000);
    const server = await serve({ EASEL_FOLDER: folder.dir });
    const rssBefore = process.memoryUsage().rss;
    const d = await display(server.ws('bombs'));
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThanOrEqual(6), { timeout: 6000 });
    expect(new Set(d.frames.map((f) => f.header.imageId)).size).toBe(2);
    const skipped = server.logs.filter((l) => String(l.msg).startsWith('Skipping image')).map((l) => [l.file, l.code]);
    expect(skipped).toEqual(
      expect.arrayContaining([
        ['b-bomb.png', 'EASEL_ERR_IMAGE_TOO_LARGE'],
        ['c-truncated.jpg', 'EASEL_ERR_IMAGE_UNREADABLE'],
      ]),
    );
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(300 * 1024 * 1024); // 900 MB was never allocated
  });

  it('cleans up displays that vanish mid-send, and keeps serving the others', async () => {
    const server = await serve({ EASEL_FPS: '20' });
    const steady = await display(server.ws('vanish'));
    const doomed = await Promise.all(Array.from({ length: 20 }, () => display(server.ws('vanish'))));
    const canvas = server.server.registry.get('vanish')!;
    expect(canvas.snapshot().displays).toBe(21);
    for (const d of doomed) d.socket.terminate(); // TCP reset, no close frame
    await vi.waitFor(() => expect(canvas.snapshot().displays).toBe(1), { timeout: 5000 });
    const count = steady.frames.length;
    await vi.waitFor(() => expect(steady.frames.length).toBeGreaterThan(count + 5), { timeout: 5000 });
  });

  it('never crashes on malformed, binary or oversized client messages', async () => {
    const server = await serve();
    const d = await display(server.ws('junk'));
    const junk: Array<string | Buffer> = [
      '',
      '{',
      'null',
      '[]',
      '{"type":"ping"}',
      '{"type":"ping","t0":"x"}',
      '{"type":"viewport","w":1e9,"h":1,"dpr":1}',
      Buffer.alloc(100, 0xff),
      '\u0000\uffff',
    ];
    for (const m of junk) d.socket.send(m);
    const big = await display(server.ws('junk'));
    big.socket.send(Buffer.alloc(70_000, 1));
    expect((await big.closed).code).toBe(1009);
    const count = d.frames.length;
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThan(count + 1), { timeout: 5000 });
    expect((await fetch(server.http('/healthz'))).status).toBe(200);
  });

  it('bounds a flood of 2,000 connection attempts by the connection limits', async () => {
    const server = await serve({ EASEL_MAX_CONNECTIONS: '60', EASEL_MAX_DISPLAYS_PER_CANVAS: '40' });
    const watcher = await display(server.ws('flood-a'));
    const outcomes = { opened: 0, refused: 0, other: 0 };
    const sockets: WebSocket[] = [];
    const attempt = (slug: string) =>
      new Promise<void>((resolve) => {
        const ws = new WebSocket(server.ws(slug));
        sockets.push(ws);
        ws.once('open', () => (outcomes.opened++, resolve()));
        ws.once(
          'unexpected-response',
          (_req, res) => (res.statusCode === 503 ? outcomes.refused++ : outcomes.other++, res.resume(), resolve()),
        );
        ws.once('error', () => (outcomes.other++, resolve()));
      });
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 200 }, (_, i) => attempt(i % 2 ? 'flood-a' : 'flood-b')));
    }
    cleanups.push(() => sockets.forEach((s) => s.terminate()));
    expect(outcomes.opened + outcomes.refused + outcomes.other).toBe(2000);
    expect(outcomes.opened).toBeLessThanOrEqual(59); // 60 overall, one is the watcher
    expect(server.server.registry.get('flood-a')!.snapshot().displays).toBeLessThanOrEqual(40);
    expect(outcomes.refused).toBeGreaterThanOrEqual(2000 - 59);
    const refused = server.server.displays.refused;
    expect(refused.connections + refused.displaysPerCanvas).toBe(outcomes.refused);
    const count = watcher.frames.length;
    await vi.waitFor(() => expect(watcher.frames.length).toBeGreaterThan(count + 1), { timeout: 5000 });
  });

  it('answers 429 with Retry-After to an address opening connections too fast', async () => {
    const server = await serve({ EASEL_RATE_LIMIT_LOOPBACK: 'true', EASEL_CONNECTIONS_PER_SECOND: '2', EASEL_CONNECTION_BURST: '3' });
    for (let i = 0; i < 3; i++) await display(server.ws('rate'));
    const refused = await refusedUpgrade(server.ws('rate'));
    expect(refused.status).toBe(429);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'EASEL_ERR_LIMIT_REACHED' });
    expect(server.server.displays.refused.rate).toBe(1);
  });

  it('exits cleanly on SIGTERM under load, closing every display with 1001', async () => {
    const main = startMain([], { EASEL_HOST: '127.0.0.1', EASEL_PORT: '0', EASEL_FOLDER: await colourFolder(), EASEL_FPS: '10' });
    cleanups.push(() => main.child.kill('SIGKILL'));
    const port = await main.port;
    const displays = await Promise.all(Array.from({ length: 200 }, (_, i) => display(`ws://127.0.0.1:${port}/ws/load-${i % 4}`)));
    await vi.waitFor(() => expect(displays.every((d) => d.frames.length > 1)).toBe(true), { timeout: 10_000 });
    const signalledAt = performance.now();
    main.child.kill('SIGTERM');
    const codes = await Promise.all(displays.map((d) => d.closed.then((c) => c.code)));
    expect(await main.exited).toEqual({ code: 0, signal: null });
    expect(performance.now() - signalledAt).toBeLessThan(2000);
    expect(new Set(codes)).toEqual(new Set([1001]));
  });
});

describe('display token', () => {
  it('refuses displays without the configured token with 401 (a wrong one with 403), and streams to those that bring it', async () => {
    const server = await serve({ EASEL_DISPLAY_TOKEN: 'wall-secret' });
    const none = await refusedUpgrade(server.ws('guarded'));
    expect(none.status).toBe(401);
    expect(JSON.parse(none.body)).toMatchObject({ title: 'Display token required', hint: expect.stringContaining('?token=') });
    const wrong = await refusedUpgrade(server.ws('guarded?token=nope'));
    expect(wrong.status).toBe(403);
    expect(JSON.parse(wrong.body)).toMatchObject({ code: 'EASEL_ERR_AUTH_INVALID', hint: expect.stringContaining('?token=') });
    const d = await display(server.ws('guarded?token=wall-secret'));
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThan(0), { timeout: 5000 });
    expect(server.server.displays.refused.token).toBe(2);
  });
});
