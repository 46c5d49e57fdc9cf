import sharp, { type Sharp } from 'sharp';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blocksPng } from '../support/images.js';
import { launchChromium, openPage, stats, type WatchedPage } from './browser.js';
import { startDisplayServer, type DisplayServer } from './fixtures.js';

// A 2x1 wall of 320x240 screens with a 40 px bezel. Each source frame is 680x240 of 40 px blocks;
// the 40 px column behind the bezel is white, so a tile showing white shows what the bezel hides.
const TILE = { width: 320, height: 240 };
const BEZEL = 40;
const SOURCE = { width: 2 * TILE.width + BEZEL, height: TILE.height };

async function wallFrame(seed: number): Promise<Buffer> {
  const strip = { create: { width: BEZEL, height: SOURCE.height, channels: 3 as const, background: '#ffffff' } };
  return sharp(await blocksPng(SOURCE.width / 40, SOURCE.height / 40, 40, seed))
    .composite([{ input: strip, left: TILE.width, top: 0 }])
    .png()
    .toBuffer();
}

/** An image shrunk to one pixel per 40 px block (8x6 for a tile): compared block by block, which JPEG keeps. */
async function blocks(image: Buffer | Sharp): Promise<Buffer> {
  const s = Buffer.isBuffer(image) ? sharp(image) : image;
  return s.removeAlpha().resize(8, 6, { fit: 'fill', kernel: 'cubic' }).raw().toBuffer();
}

const distance = (a: Buffer, b: Buffer) => a.reduce((sum, v, i) => sum + Math.abs(v - b[i]!), 0) / a.length;

let server: DisplayServer;
let browser: Browser;
/** Per source frame: the blocks each tile should show. */
let expected: Array<{ left: Buffer; right: Buffer }>;

beforeAll(async () => {
  const frames = await Promise.all([wallFrame(7), wallFrame(99)]);
  expected = await Promise.all(
    frames.map(async (f) => ({
      left: await blocks(sharp(f).extract({ left: 0, top: 0, ...TILE })),
      right: await blocks(sharp(f).extract({ left: TILE.width + BEZEL, top: 0, ...TILE })),
    })),
  );
  [server, browser] = await Promise.all([
    startDisplayServer([
      {
        slug: 'lobby',
        fps: 4,
        fit: 'cover',
        tiles: { columns: 2, rows: 1, bezelPx: BEZEL, tileWidth: TILE.width, tileHeight: TILE.height },
        images: frames.map((data, i) => ({ name: `${i}.png`, data })),
      },
    ]),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

async function openTile(tile: string): Promise<WatchedPage> {
  const w = await openPage(browser, TILE.width, TILE.height);
  await w.page.goto(server.http(`/c/lobby?tile=${tile}&time=0`));
  await expect.poll(() => stats(w.page).then((s) => s.framesShown)).toBeGreaterThan(0);
  return w;
}

/** Which source frame a tile's screen shows, read with the seq on screen before and after the screenshot. */
async function look(page: Page, side: 'left' | 'right') {
  const before = (await stats(page)).lastFrame;
  const shot = await blocks(await page.screenshot({ animations: 'allow' }));
  const after = (await stats(page)).lastFrame;
  const distances = expected.map((e) => distance(shot, e[side]));
  const frame = distances.findIndex((d) => d < 30);
  return { seq: before?.seq === after?.seq ? (after?.seq ?? 0) : 0, imageId: after?.imageId, frame, distances, shot };
}

describe('a tiled wall in Chromium', () => {
  it('shows each tile its part of the frame, the bezel strip left out, and both tiles change on the same frame', async () => {
    const [left, right] = await Promise.all([openTile('1,1'), openTile('2,1')]);
    expect(await stats(left.page)).toMatchObject({ lastFrame: { width: TILE.width, height: TILE.height } });

    // Each tile's screen matches its half of one of the two source frames, both frames in turn.
    for (const [w, side] of [
      [left, 'left'],
      [right, 'right'],
    ] as const) {
      const seen = new Set<number>();
      await expect
        .poll(
          async () => {
            const l = await look(w.page, side);
            if (l.frame >= 0) seen.add(l.frame);
            return seen.size;
          },
          { timeout: 15_000 },
        )
        .toBe(2);
    }

    // The edge next to the bezel shows the blocks beside it, never the white strip behind it.
    const edge = async (page: Page, x: number) =>
      sharp(await page.screenshot({ clip: { x, y: 0, width: 4, height: TILE.height }, animations: 'allow' }))
        .removeAlpha()
        .raw()
        .toBuffer();
    for (const [page, x] of [
      [left.page, TILE.width - 4],
      [right.page, 0],
    ] as const) {
      const px = await edge(page, x);
      let whiteRows = 0;
      for (let i = 0; i < px.length; i += 3) if (Math.min(px[i]!, px[i + 1]!, px[i + 2]!) > 200) whiteRows++;
      expect(whiteRows).toBe(0);
    }

    // Over a window of frames, a seq both tiles showed is the same image on both, and both halves
    // of it are from the same source frame.
    const shown = { left: new Map<number, number>(), right: new Map<number, number>() };
    await expect
      .poll(
        async () => {
          const [l, r] = await Promise.all([look(left.page, 'left'), look(right.page, 'right')]);
          if (l.seq > 0 && l.frame >= 0) shown.left.set(l.seq, l.frame);
          if (r.seq > 0 && r.frame >= 0) shown.right.set(r.seq, r.frame);
          return [...shown.left.keys()].filter((seq) => shown.right.has(seq)).length;
        },
        { timeout: 20_000, interval: 50 },
      )
      .toBeGreaterThanOrEqual(4);
    for (const [seq, frame] of shown.left) if (shown.right.has(seq)) expect(shown.right.get(seq), `seq ${seq}`).toBe(frame);
    // The folder alternates its two images, so consecutive seqs show different source frames.
    const frames = new Set(shown.left.values());
    expect(frames.size).toBe(2);

    expect(left.problems).toEqual([]);
    expect(right.problems).toEqual([]);
    await Promise.all([left.close(), right.close()]);
  });

  it('previews the whole grid in one window on /wall?grid=, each tile in its place with the bezel gap dark', async () => {
    const w = await openPage(browser, 2 * TILE.width + BEZEL, TILE.height);
    await w.page.goto(server.http('/wall?grid=lobby&time=0'));
    await expect
      .poll(
        async () => (await Promise.all([0, 1].map((i) => stats(w.page, i).catch(() => null)))).every((s) => (s?.framesShown ?? 0) > 0),
        { timeout: 15_000 },
      )
      .toBe(true);
    // The window has the wall's own shape, so the tiles fill it at 1:1 with the gap between them.
    await expect
      .poll(
        async () => {
          const png = await w.page.screenshot({ animations: 'allow' });
          const left = await blocks(sharp(png).extract({ left: 0, top: 0, ...TILE }));
          const right = await blocks(sharp(png).extract({ left: TILE.width + BEZEL, top: 0, ...TILE }));
          const gap = await sharp(png)
            .extract({ left: TILE.width + 8, top: 8, width: BEZEL - 16, height: TILE.height - 16 })
            .raw()
            .toBuffer();
          const dark = gap.every((v) => v < 60);
          return dark && expected.some((e) => distance(left, e.left) < 30 && distance(right, e.right) < 30);
        },
        { timeout: 15_000, interval: 50 },
      )
      .toBe(true);
    expect(w.problems).toEqual([]);
    await w.close();
  });
});
