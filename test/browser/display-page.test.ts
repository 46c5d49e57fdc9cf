import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatFrameTime } from '../../display/src/frame-time.js';
import {
  BLACK,
  BLUE,
  canvasCentres,
  GREEN,
  inspectChrome,
  isColour,
  launchChromium,
  openPage,
  pixelAt,
  RED,
  shownTimes,
  shownTimeWithStats,
  stats,
  type Rgb,
  type WatchedPage,
} from './browser.js';
import { startDisplayServer, type DisplayServer } from './fixtures.js';

let server: DisplayServer;
let browser: Browser;

// Two images per canvas, so frames keep coming (a folder with one image holds on it).
const big = { width: 2048, height: 2048 };
beforeAll(async () => {
  [server, browser] = await Promise.all([
    startDisplayServer([
      {
        slug: 'red',
        size: 2048,
        fps: 8,
        images: [
          { name: 'a.png', colour: '#ff0000', ...big },
          { name: 'b.png', colour: '#fa0000', ...big },
        ],
      },
      {
        slug: 'blue',
        fps: 8,
        images: [
          { name: 'a.png', colour: '#0000ff' },
          { name: 'b.png', colour: '#0000fa' },
        ],
      },
      {
        slug: 'alternate',
        fps: 4,
        images: [
          { name: 'a.png', colour: '#ff0000' },
          { name: 'b.png', colour: '#0000ff' },
        ],
      },
      { slug: 'wide', size: 2048, images: [{ name: 'wide.png', colour: '#00ff00', width: 2048, height: 1024 }] },
      { slug: 'empty', images: [] },
    ]),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens a display page and waits for its first frame on every canvas. */
async function open(path: string, width: number, height: number, canvases = 1): Promise<WatchedPage> {
  const watched = await openPage(browser, width, height);
  await watched.page.goto(server.http(path));
  await expect
    .poll(
      async () =>
        (await Promise.all(Array.from({ length: canvases }, (_, i) => stats(watched.page, i).catch(() => null)))).every(
          (s) => (s?.framesShown ?? 0) > 0,
        ),
      {
        timeout: 15_000,
      },
    )
    .toBe(true);
  return watched;
}

/** Pages in normal operation log nothing at all. */
function expectQuiet(watched: WatchedPage) {
  expect(watched.problems).toEqual([]);
}

describe('a display page', () => {
  it('shows the frame of its canvas on screen, with its time in the corner', async () => {
    const w = await open('/c/red', 1280, 720);
    await expect.poll(() => pixelAt(w.page, 640, 360)).toSatisfy((p) => isColour(p, RED));
    // The page's clock and this process share a time zone, so the text can be checked exactly.
    // Read together, and polled: the corner may lag the frame by one render on a busy machine.
    await expect
      .poll(async () => {
        const { time, stats: shown } = await shownTimeWithStats(w.page);
        // The moment the image went on screen, on the server's clock, once the page has its clock from the pings.
        const at = shown?.shownAt ?? null;
        return { time, synced: at !== null, matches: shown?.lastFrame && at !== null ? formatFrameTime(at) === time : false };
      })
      .toEqual({ time: expect.stringMatching(/^\d\d:\d\d:\d\d\.\d{3}$/), synced: true, matches: true });
    const s = await stats(w.page);
    // The server runs on this machine's clock: the frame went on screen moments ago, not in the future.
    expect(s.shownAt).toBeLessThanOrEqual(Date.now() + 50);
    expect(s.shownAt).toBeGreaterThan(Date.now() - 30_000);
    expect(s.clockErrorMs).toBeGreaterThanOrEqual(0);
    expect(s).toMatchObject({ state: 'open', decodeErrors: 0, badMessages: 0, disconnects: 0 });
    expectQuiet(w);
    await w.close();
  });

  it('updates the time as new frames arrive', async () => {
    const w = await open('/c/blue', 800, 600);
    const seen = new Set<string>();
    await expect
      .poll(async () => {
        const [time] = await shownTimes(w.page);
        if (time) seen.add(time);
        return seen.size;
      })
      .toBeGreaterThanOrEqual(3);
    expectQuiet(w);
    await w.close();
  });

  it('shows two canvases with different content side by side on /wall', async () => {
    const w = await open('/wall?slugs=red,blue', 1920, 1080, 2);
    const [left, right] = await canvasCentres(w.page);
    expect(left!.x).toBeLessThan(960);
    expect(right!.x).toBeGreaterThan(960);
    await expect.poll(() => pixelAt(w.page, left!.x, left!.y)).toSatisfy((p) => isColour(p, RED));
    await expect.poll(() => pixelAt(w.page, right!.x, right!.y)).toSatisfy((p) => isColour(p, BLUE));
    expect((await shownTimes(w.page)).every((t) => /^\d\d:\d\d:\d\d\.\d{3}$/.test(t))).toBe(true);
    expectQuiet(w);
    await w.close();
  });

  for (const [width, height] of [
    [500, 800],
    [1920, 1080],
    [3840, 2160],
  ] as const) {
    it(`has no scrollbars, controls, cursor or selectable text at ${width}x${height}, on /c and /wall`, async () => {
      for (const path of ['/c/red', '/wall?slugs=red,blue']) {
        const w = await open(path, width, height, path.startsWith('/wall') ? 2 : 1);
        const chrome = await inspectChrome(w.page);
        expect(chrome.viewport).toEqual({ width, height });
        expect(chrome.scrollable).toBe(false);
        expect(chrome.controls).toEqual([]);
        expect(chrome.cursors).toEqual([]);
        expect(chrome.selectable).toEqual([]);
        // The only text is the time, small and inside the screen.
        expect(chrome.texts.length).toBeGreaterThan(0);
        for (const text of chrome.texts) {
          expect(text.what).toBe('div.time');
          expect(text.height).toBeLessThanOrEqual(Math.max(16, height * 0.03));
          expect(text.right).toBeLessThanOrEqual(width);
          expect(text.bottom).toBeLessThanOrEqual(height);
        }
        const [centre] = await canvasCentres(w.page);
        await expect.poll(() => pixelAt(w.page, centre!.x, centre!.y)).toSatisfy((p) => isColour(p, RED));
        expectQuiet(w);
        await w.close();
      }
    });
  }

  it('tells the server its size: a small rendition for a small window, never past the source for 4K', async () => {
    const w = await open('/c/red', 500, 800);
    // 800 px long edge → the 960 step; the canvas box is 2048.
    await expect.poll(async () => (await stats(w.page)).lastFrame).toMatchObject({ width: 960, height: 960 });
    await w.page.setViewportSize({ width: 1920, height: 1080 });
    await expect.poll(async () => (await stats(w.page)).lastFrame?.width).toBe(1920);
    await w.page.setViewportSize({ width: 3840, height: 2160 });
    await expect.poll(async () => (await stats(w.page)).lastFrame?.width).toBe(2048);
    expect((await stats(w.page)).disconnects).toBe(0);
    expectQuiet(w);
    await w.close();
  });

  it('is dark before the first frame, or shows the placeholder it is given', async () => {
    const dark = await openPage(browser, 800, 600);
    await dark.page.goto(server.http('/c/empty'));
    await expect.poll(async () => (await stats(dark.page)).state).toBe('open');
    expect(await pixelAt(dark.page, 400, 300)).toEqual(BLACK);
    expect((await inspectChrome(dark.page)).texts).toEqual([]);
    expectQuiet(dark);
    await dark.close();

    const svg = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10" fill="#0f0"/></svg>')}`;
    const placeholder = await openPage(browser, 800, 600);
    await placeholder.page.goto(server.http(`/c/empty?placeholder=${encodeURIComponent(svg)}`));
    await expect.poll(() => pixelAt(placeholder.page, 400, 300)).toSatisfy((p) => isColour(p, GREEN, 5));
    expectQuiet(placeholder);
    await placeholder.close();
  });

  it('fits the whole frame with fit=contain (the default) and fills the screen with fit=cover', async () => {
    const contain = await open('/c/wide', 1000, 1000);
    // Polled: the first frame fades in from dark, so "shown" comes before full colour.
    await expect.poll(() => pixelAt(contain.page, 500, 500)).toSatisfy((p) => isColour(p, GREEN));
    expect(await pixelAt(contain.page, 500, 50)).toEqual(BLACK);
    await contain.close();
    const cover = await open('/c/wide?fit=cover', 1000, 1000);
    await expect.poll(() => pixelAt(cover.page, 500, 50)).toSatisfy((p) => isColour(p, GREEN));
    expectQuiet(cover);
    await cover.close();
  });

  it('never shows a dark screen between frames, with a cut or a crossfade', async () => {
    // Samples the screen over at least 6 frames, and on until `seen` holds (at most 40 frames): a
    // busy box may take a screenshot only every few hundred ms, and catch few mid-fade moments.
    const samples = async (w: WatchedPage, seen: (out: Rgb[]) => boolean) => {
      // The first frame fades in from the dark screen; what matters is every frame after it.
      await expect.poll(async () => (await stats(w.page)).framesShown).toBeGreaterThanOrEqual(2);
      const out: Rgb[] = [];
      const start = (await stats(w.page)).framesShown;
      for (let shown = start; shown < start + 40; shown = (await stats(w.page)).framesShown) {
        if (shown >= start + 6 && seen(out)) break;
        out.push(await pixelAt(w.page, 400, 300));
      }
      return out;
    };
    const cut = await open('/c/alternate?transition=cut', 800, 600);
    const cutSamples = await samples(cut, (out) => out.some((p) => isColour(p, RED)) && out.some((p) => isColour(p, BLUE)));
    expect(cutSamples.every((p) => isColour(p, RED) || isColour(p, BLUE))).toBe(true);
    expect(cutSamples.some((p) => isColour(p, RED)) && cutSamples.some((p) => isColour(p, BLUE))).toBe(true);
    expectQuiet(cut);
    await cut.close();

    const fade = await open('/c/alternate?transition=crossfade&transitionMs=200', 800, 600);
    const fadeSamples = await samples(fade, (out) => out.some((p) => !isColour(p, RED) && !isColour(p, BLUE)));
    // Mid-fade red and blue mix; the sum never drops towards black.
    expect(fadeSamples.every(([r, , b]) => r + b > 200)).toBe(true);
    expect(fadeSamples.some((p) => !isColour(p, RED) && !isColour(p, BLUE))).toBe(true);
    expectQuiet(fade);
    await fade.close();
  });

  it('shows the slug only with label=1, and no time with time=0', async () => {
    const w = await open('/c/blue?label=1&time=0', 800, 600);
    const texts = (await inspectChrome(w.page)).texts;
    expect(texts.map((t) => t.what)).toEqual(['div.label']);
    expect(
      await w.page.evaluate(
        () => (globalThis as any).document.querySelector('easel-canvas').shadowRoot.querySelector('.label').textContent,
      ),
    ).toBe('blue');
    expectQuiet(w);
    await w.close();
  });

  it('refuses an invalid slug before serving a page', async () => {
    const res = await fetch(server.http('/c/Not_A_Slug'));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(await res.json()).toMatchObject({ status: 400, title: 'Invalid canvas slug' });
  });
});
