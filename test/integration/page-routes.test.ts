import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import uWS, { type us_listen_socket } from 'uWebSockets.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Clock } from '../../server/stream/clock.js';
import { registerPageRoutes } from '../../server/transport/page-routes.js';
import { FakeClock } from '../support/fake-clock.js';
import { captureLogs } from '../support/log-capture.js';
import { tempFolder } from '../support/server.js';

const HTML = '<!doctype html><title>Easel</title><script type="module" src="/assets/c-Ab12Cd34.js"></script>';
const SCRIPT = `export const x = ${JSON.stringify('x'.repeat(2000))};`;

/** A Vite build as display/dist holds it, in a temporary folder. */
function writeBuild(dir: string, html = HTML) {
  mkdirSync(path.join(dir, 'assets'), { recursive: true });
  writeFileSync(path.join(dir, 'c.html'), html);
  writeFileSync(path.join(dir, 'wall.html'), html.replace('c-', 'wall-'));
  writeFileSync(path.join(dir, 'assets', 'c-Ab12Cd34.js'), SCRIPT);
  writeFileSync(path.join(dir, 'assets', 'c-Ab12Cd34.js.map'), '{"version":3}');
}

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

/** The page routes alone on a uWS app on an ephemeral port. */
async function serve(distDir: string, clock?: Clock) {
  const app = uWS.App();
  const { logger, lines } = captureLogs('debug');
  const pages = registerPageRoutes(app, { distDir, logger, clock });
  cleanups.push(() => pages.close());
  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').end('catch-all');
  });
  const socket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('listen failed')))),
  );
  cleanups.push(() => uWS.us_listen_socket_close(socket));
  const port = uWS.us_socket_local_port(socket);
  return { url: (p: string) => `http://127.0.0.1:${port}${p}`, logs: lines };
}

describe('the display page routes', () => {
  it('serves /c/:slug and /wall as HTML that is revalidated, with an ETag', async () => {
    const dist = tempFolder('easel-dist-');
    cleanups.push(dist.remove);
    writeBuild(dist.dir);
    const { url } = await serve(dist.dir);
    const page = await fetch(url('/c/left-canva?transition=crossfade'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(await page.text()).toBe(HTML);
    const etag = page.headers.get('etag')!;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const again = await fetch(url('/c/lobby-3'), { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
    const wall = await fetch(url('/wall?slugs=a,b'));
    expect(wall.status).toBe(200);
    expect(await wall.text()).toContain('/assets/wall-');
  });

  it('serves hashed assets as immutable with their content type, gzipped when asked', async () => {
    const dist = tempFolder('easel-dist-');
    cleanups.push(dist.remove);
    writeBuild(dist.dir);
    const { url } = await serve(dist.dir);
    const plain = await fetch(url('/assets/c-Ab12Cd34.js'), { headers: { 'accept-encoding': 'identity' } });
    expect(plain.status).toBe(200);
    expect(plain.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(plain.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(plain.headers.get('content-encoding')).toBeNull();
    expect(await plain.text()).toBe(SCRIPT);
    // fetch would unzip by itself; read the raw bytes over node:http instead.
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(url('/assets/c-Ab12Cd34.js'), { headers: { 'accept-encoding': 'gzip, br' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        }).on('error', reject),
      );
    });
    expect(raw.headers['content-encoding']).toBe('gzip');
    expect(raw.headers.vary).toBe('accept-encoding');
    expect(gunzipSync(raw.body).toString()).toBe(SCRIPT);
    expect((await fetch(url('/assets/c-Ab12Cd34.js.map'))).headers.get('content-type')).toBe('application/json; charset=utf-8');
    const missing = await fetch(url('/assets/c-Gone.js'));
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toMatch(/application\/problem\+json/);
  });

  it('refuses an invalid slug with 400 and says what a slug may hold', async () => {
    const dist = tempFolder('easel-dist-');
    cleanups.push(dist.remove);
    writeBuild(dist.dir);
    const { url } = await serve(dist.dir);
    const res = await fetch(url('/c/Lobby_3'));
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({
      status: 400,
      title: 'Invalid canvas slug',
      code: 'EASEL_ERR_SLUG_INVALID',
      detail: expect.stringContaining('"Lobby_3"'),
    });
  });

  it('answers 503 saying to run npm run build while there is no build, and picks one up without a restart', async () => {
    const dist = tempFolder('easel-dist-');
    cleanups.push(dist.remove);
    const { url, logs } = await serve(path.join(dist.dir, 'dist'));
    for (const p of ['/c/left-canva', '/wall']) {
      const res = await fetch(url(p));
      expect(res.status).toBe(503);
      const problem = (await res.json()) as { hint: string; detail: string };
      expect(problem.hint).toContain('npm run build');
    }
    expect(logs.filter((l) => l.level === 40 && String(l.msg).includes('not built'))).toHaveLength(1);
    writeBuild(path.join(dist.dir, 'dist'));
    await vi.waitFor(async () => expect((await fetch(url('/c/left-canva'))).status).toBe(200), { timeout: 5000, interval: 250 });
  });

  it('notices a new build while running and serves its pages', async () => {
    const dist = tempFolder('easel-dist-');
    cleanups.push(dist.remove);
    writeBuild(dist.dir);
    const { url } = await serve(dist.dir);
    expect(await (await fetch(url('/wall'))).text()).toBe(HTML.replace('c-', 'wall-'));
    const newer = HTML.replace('Easel', 'Easel 2');
    writeFileSync(path.join(dist.dir, 'c.html'), newer);
    await vi.waitFor(async () => expect(await (await fetch(url('/c/a'))).text()).toBe(newer), { timeout: 5000, interval: 250 });
  });

  it('serves a build as it is: a page it lacks answers 503 with the hint, and an unchanged build is read once', async () => {
    const dist = tempFolder('easel-dist-');
    cleanups.push(dist.remove);
    writeBuild(dist.dir); // no operator.html, as in a build older than the console
    const clock = new FakeClock();
    const { url, logs } = await serve(dist.dir, clock);
    expect((await fetch(url('/c/a'))).status).toBe(200);
    const console = await fetch(url('/operator'));
    expect(console.status).toBe(503);
    expect(await console.json()).toMatchObject({
      detail: expect.stringContaining('operator.html'),
      hint: expect.stringContaining('npm run build'),
    });
    const loads = () => logs.filter((l) => l.msg === 'Display pages loaded').length;
    for (let i = 0; i < 3; i++) {
      clock.advance(2000);
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(loads()).toBe(1);
    writeFileSync(path.join(dist.dir, 'operator.html'), HTML);
    await vi.waitFor(
      async () => {
        clock.advance(2000);
        expect((await fetch(url('/operator'))).status).toBe(200);
      },
      { timeout: 5000, interval: 50 },
    );
    expect((await fetch(url('/operator/'))).headers.get('x-frame-options')).toBe('DENY');
  });
});
