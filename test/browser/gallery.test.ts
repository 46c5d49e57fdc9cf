import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveEntry } from '../../server/archive/archive-entry.js';
import { createArchiveStore } from '../../server/archive/archive-store.js';
import { systemClock } from '../../server/stream/clock.js';
import { DisplayClient } from '../support/display-client.js';
import { meanColour, putImage, solidPng } from '../support/images.js';
import { captureLogs } from '../support/log-capture.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { elementsPastRightEdge, isColour, launchChromium, openPage, type WatchedPage } from './browser.js';

// See browser.ts: the callbacks given to page.evaluate run in the page, which has a DOM.
declare const localStorage: any;

const OPERATOR = 'gallery-operator-token';
const DISPLAY = 'gallery-display-token';
/** More than one page of the gallery (48), so the grid has to load a second page as it scrolls. */
const WALL_1 = 60;
const WALL_2 = 10;
/** The one frame shown again on a canvas: a colour no other frame has. */
const SHOWN_COLOUR = '#18c048';

let server: TestServer;
let browser: Browser;
/** Newest first, as the gallery lists them. */
let entries: ArchiveEntry[] = [];
const folders: Array<ReturnType<typeof tempFolder>> = [];

/** Frames kept through the real store, as the recorder would hand them over: two canvases, an hour of prompts. */
async function fillArchive(dir: string): Promise<ArchiveEntry[]> {
  const { logger } = captureLogs();
  const store = createArchiveStore({ dir, maxBytes: 0, maxAgeDays: 0, minFreeBytes: 0, clock: systemClock, logger });
  await store.open();
  const made: ArchiveEntry[] = [];
  const t0 = Date.parse('2026-12-01T18:00:00Z');
  for (let i = 0; i < WALL_1 + WALL_2; i++) {
    const canvas = i < WALL_1 ? 'wall-1' : 'wall-2';
    const prompt = canvas === 'wall-2' ? 'neon city rain' : i % 4 === 0 ? 'a red lighthouse in a storm' : 'a foggy harbour at dawn';
    // Shades of grey and blue for every frame but one, so the shown one is told apart by colour.
    const colour = i === 7 ? SHOWN_COLOUR : `#${(40 + i).toString(16).padStart(2, '0')}${(40 + i).toString(16).padStart(2, '0')}c0`;
    const madeAt = t0 + i * 61_000;
    made.push(
      await store.write({
        canvas,
        data: await solidPng(colour, 256, 256),
        meta: {
          canvas,
          source: 'inference',
          prompt,
          seed: 1000 + i,
          steps: 2,
          model: 'stabilityai/sdxl-turbo',
          madeAt: new Date(madeAt).toISOString(),
          shownAt: new Date(madeAt + 800).toISOString(),
          seq: i + 1,
          displays: 2,
        },
      }),
    );
  }
  await store.close();
  return made.sort((a, b) => Date.parse(b.madeAt) - Date.parse(a.madeAt));
}

beforeAll(async () => {
  const archive = tempFolder('easel-gallery-archive-');
  const images = tempFolder('easel-gallery-images-');
  folders.push(archive, images);
  putImage(images.dir, 'grey.png', await solidPng('#808080', 256, 256));
  entries = await fillArchive(archive.dir);
  [server, browser] = await Promise.all([
    startTestServer({
      EASEL_OPERATOR_TOKEN: OPERATOR,
      EASEL_DISPLAY_TOKEN: DISPLAY,
      EASEL_ARCHIVE_DIR: archive.dir,
      EASEL_FOLDER: images.dir,
      EASEL_FALLBACK_FOLDER: images.dir,
      EASEL_LOG_LEVEL: 'warn',
      EASEL_CANVASES: JSON.stringify([
        { slug: 'wall-1', source: { type: 'folder' } },
        { slug: 'wall-2', source: { type: 'folder' } },
      ]),
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  for (const f of folders) f.remove();
});

const thumbs = (page: Page) => page.locator('easel-gallery .thumb');
const thumbIds = (page: Page) => thumbs(page).evaluateAll((els: any[]) => els.map((el) => el.dataset.id as string));
/** What a read of the API says (with the display token). */
const apiEntry = async (id: string) =>
  (await (await fetch(server.http(`/api/archive/${encodeURIComponent(id)}?token=${DISPLAY}`))).json()) as ArchiveEntry;

/** Opens `path` in a fresh context (nothing stored), optionally with the operator token kept from an earlier visit. */
async function openGallery(path: string, options: { width?: number; height?: number; storedToken?: string } = {}): Promise<WatchedPage> {
  const watched = await openPage(browser, options.width ?? 1280, options.height ?? 800);
  if (options.storedToken)
    await watched.context.addInitScript((token: string) => localStorage.setItem('easel.operatorToken', token), options.storedToken);
  await watched.page.goto(server.http(path));
  return watched;
}

/** Only the browser's own line about a refused request may be in the console, nothing the page wrote. */
const pageProblems = (watched: WatchedPage) => watched.problems.filter((p) => !/status of 40[13]/.test(p));

describe('the gallery', () => {
  it('is served at /gallery, no other site may frame it, and the console links to it', async () => {
    const res = await fetch(server.http('/gallery'));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(await res.text()).toContain('<title>Easel gallery</title>');

    const watched = await openPage(browser, 1280, 800);
    await watched.page.goto(server.http('/operator'));
    await watched.page.getByLabel('Operator token').fill(OPERATOR);
    await watched.page.getByRole('button', { name: 'Open' }).click();
    await watched.page.getByRole('link', { name: 'Gallery' }).click();
    await expect.poll(() => watched.page.url()).toBe(server.http('/gallery'));
    // The console's token opens the gallery: reads go with it, no token in the address needed.
    await expect.poll(() => thumbs(watched.page).count()).toBeGreaterThan(0);
    expect(pageProblems(watched)).toEqual([]);
    await watched.close();
  });

  it('shows the archive newest first as thumbnails read with the display token, and loads the next page as the grid scrolls', async () => {
    const watched = await openGallery(`/gallery?token=${DISPLAY}`);
    const { page } = watched;
    await expect.poll(() => thumbs(page).count()).toBe(48);
    expect((await thumbIds(page)).slice(0, 3)).toEqual(entries.slice(0, 3).map((e) => e.id));
    // Real thumbnails from the server, decoded by the browser.
    await expect
      .poll(() =>
        page
          .locator('easel-gallery .thumb img')
          .first()
          .evaluate((img: any) => img.complete && img.naturalWidth),
      )
      .toBeGreaterThan(0);
    expect(await page.locator('easel-gallery .thumb img').first().getAttribute('src')).toContain(`w=320&token=${DISPLAY}`);

    await page.locator('easel-gallery [data-role="end"]').scrollIntoViewIfNeeded();
    await expect.poll(() => thumbs(page).count()).toBe(WALL_1 + WALL_2);
    expect(await thumbIds(page)).toEqual(entries.map((e) => e.id));
    await expect.poll(() => page.locator('easel-gallery [data-role="end"]').textContent()).toContain(`${WALL_1 + WALL_2} frames`);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it('narrows the grid by canvas, prompt words, day and stars, and keeps the filters in the address', async () => {
    const watched = await openGallery(`/gallery?token=${DISPLAY}`);
    const { page } = watched;
    await expect.poll(() => thumbs(page).count()).toBe(48);

    await page.locator('easel-gallery [data-role="canvas"]').selectOption('wall-2');
    await expect.poll(() => thumbs(page).count()).toBe(WALL_2);
    expect(page.url()).toContain('canvas=wall-2');
    expect(page.url()).toContain(`token=${DISPLAY}`);

    await page.locator('easel-gallery [data-role="canvas"]').selectOption('wall-1');
    await page.locator('easel-gallery [data-role="q"]').fill('lighthouse');
    const lighthouses = entries.filter((e) => e.prompt?.includes('lighthouse'));
    await expect.poll(() => thumbIds(page)).toEqual(lighthouses.map((e) => e.id));
    expect(new URL(page.url()).searchParams.get('q')).toBe('lighthouse');

    // A reload (or a link sent to another device) shows the same grid with the same filters set.
    await page.reload();
    await expect.poll(() => thumbIds(page)).toEqual(lighthouses.map((e) => e.id));
    expect(await page.locator('easel-gallery [data-role="q"]').inputValue()).toBe('lighthouse');
    expect(await page.locator('easel-gallery [data-role="canvas"]').inputValue()).toBe('wall-1');

    await page.locator('easel-gallery [data-role="day"]').fill('2026-11-30');
    await expect.poll(() => page.locator('easel-gallery [data-role="empty"]').isVisible()).toBe(true);
    expect(await thumbs(page).count()).toBe(0);
    expect(page.url()).toContain('day=2026-11-30');
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it("stars a frame in the full view: asks for the operator token, keeps a refused one at the gate with the server's hint, and stars once the right one is in", async () => {
    const target = entries[2]!;
    const watched = await openGallery(`/gallery?token=${DISPLAY}`);
    const { page } = watched;
    await page.locator(`easel-gallery .thumb[data-id="${target.id}"]`).click();
    const view = page.locator('easel-archive-view');
    await expect.poll(() => view.locator('[data-role="prompt"]').textContent()).toBe(target.prompt);
    const facts = await view.locator('[data-role="facts"]').textContent();
    for (const shown of [String(target.seed), 'stabilityai/sdxl-turbo', target.canvas, target.id]) expect(facts).toContain(shown);
    expect(await view.locator('[data-role="download"]').getAttribute('download')).toMatch(/^wall-2-\d{4}-\d{2}-\d{2}-\d{9}\.png$/);
    // The original, as the archive keeps it.
    const original = await page.evaluate(
      async (href: string) => {
        const res = await fetch(href);
        return { type: res.headers.get('content-type'), bytes: (await res.arrayBuffer()).byteLength };
      },
      (await view.locator('[data-role="download"]').getAttribute('href'))!,
    );
    expect(original).toEqual({ type: 'image/png', bytes: target.bytes });
    expect(page.url()).toContain(`entry=${encodeURIComponent(target.id)}`);

    // No operator token yet: the server refuses the star, and the page asks for one.
    await view.locator('[data-role="star"]').click();
    const gate = page.locator('easel-gallery easel-token-gate');
    await expect.poll(() => gate.isVisible()).toBe(true);
    await page.getByLabel('Operator token').fill('not-the-token');
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => gate.locator('easel-problem [role="alert"]').textContent()).toContain('EASEL_OPERATOR_TOKEN');
    expect(await gate.isVisible()).toBe(true);
    expect((await apiEntry(target.id)).starred).toBe(false);

    await page.getByLabel('Operator token').fill(OPERATOR);
    await page.getByRole('button', { name: 'Open' }).click();
    // The star waiting behind the gate is made, in the view that stayed open.
    await expect.poll(() => view.locator('[data-role="star"]').getAttribute('aria-pressed')).toBe('true');
    expect(await gate.count()).toBe(0);
    await expect.poll(async () => (await apiEntry(target.id)).starred).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem('easel.operatorToken'))).toBe(OPERATOR);

    await page.keyboard.press('Escape');
    expect(await view.count()).toBe(0);
    await page.locator('easel-gallery [data-role="starred"]').check();
    await expect.poll(() => thumbIds(page)).toEqual([target.id]);
    expect(pageProblems(watched)).toEqual([]);
    await watched.close();
  });

  it('shows a token gate before anything when the server needs a token for reads and none was given', async () => {
    const watched = await openGallery('/gallery');
    const { page } = watched;
    const gate = page.locator('easel-gallery easel-token-gate');
    await expect.poll(() => gate.isVisible()).toBe(true);
    expect(await thumbs(page).count()).toBe(0);
    await page.getByLabel('Operator token').fill(OPERATOR);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => thumbs(page).count()).toBe(48);
    expect(pageProblems(watched)).toEqual([]);
    await watched.close();
  });

  it('asks for the token again when the kept one is refused later, and makes the change once it is in', async () => {
    const target = entries[5]!;
    const watched = await openGallery(`/gallery?token=${DISPLAY}&entry=${encodeURIComponent(target.id)}`, { storedToken: OPERATOR });
    const { page } = watched;
    const view = page.locator('easel-archive-view');
    await expect.poll(() => view.locator('[data-role="prompt"]').textContent()).toBe(target.prompt);
    // The token changes on the server (a restart with a new one): the next change is refused for it.
    await page.route('**/api/archive/*/star', (route) =>
      route.fulfill({
        status: 403,
        contentType: 'application/problem+json',
        body: JSON.stringify({ title: 'The operator token is not right', status: 403, hint: 'Use the token from EASEL_OPERATOR_TOKEN' }),
      }),
    );
    await view.locator('[data-role="star"]').click();
    const gate = page.locator('easel-gallery easel-token-gate');
    await expect.poll(() => gate.locator('easel-problem [role="alert"]').textContent()).toContain('The operator token is not right');
    expect(await page.evaluate(() => localStorage.getItem('easel.operatorToken'))).toBeNull();
    await page.unroute('**/api/archive/*/star');
    await page.getByLabel('Operator token').fill(OPERATOR);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(async () => (await apiEntry(target.id)).starred).toBe(true);
    expect(await view.locator('[data-role="prompt"]').textContent()).toBe(target.prompt);
    expect(pageProblems(watched)).toEqual([]);
    await watched.close();
  });

  it('shows a frame again on a canvas: a display of that canvas receives it', async () => {
    const shown = entries.find((e) => e.seed === 1007)!;
    const display = new DisplayClient(server.ws(`wall-2?token=${DISPLAY}`));
    await display.opened;
    // Opened from a link to the frame (it is far down the grid, on the second page).
    const watched = await openGallery(`/gallery?token=${DISPLAY}&entry=${encodeURIComponent(shown.id)}`, { storedToken: OPERATOR });
    const { page } = watched;
    const view = page.locator('easel-archive-view');
    await expect.poll(() => view.locator('[data-role="show-canvas"]').inputValue()).toBe('wall-1');
    await view.locator('[data-role="show-canvas"]').selectOption('wall-2');
    await view.getByRole('button', { name: 'Show on canvas' }).click();
    await expect.poll(() => view.locator('[data-role="notice"]').textContent()).toBe('Shown on wall-2 for 30 s');
    await expect
      .poll(async () => {
        const last = display.frames.at(-1);
        return last ? isColour(await meanColour(last.image), [0x18, 0xc0, 0x48]) : false;
      })
      .toBe(true);
    display.close();
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it('fits a phone: two columns of thumbnails, nothing past the right edge, the full view in one column', async () => {
    const watched = await openGallery(`/gallery?token=${DISPLAY}`, { width: 390, height: 844 });
    const { page } = watched;
    await expect.poll(() => thumbs(page).count()).toBe(48);
    const boxes = await thumbs(page).evaluateAll((els: any[]) =>
      els.slice(0, 3).map((el) => {
        const r = el.getBoundingClientRect();
        return { x: Math.round(r.left), y: Math.round(r.top), width: r.width };
      }),
    );
    expect(boxes[0]!.y).toBe(boxes[1]!.y);
    expect(boxes[2]!.y).toBeGreaterThan(boxes[0]!.y);
    expect(boxes[0]!.width).toBeGreaterThan(150);
    expect(await elementsPastRightEdge(page)).toEqual([]);
    await thumbs(page).first().click();
    await expect.poll(() => page.locator('easel-archive-view [data-role="star"]').isVisible()).toBe(true);
    expect(await elementsPastRightEdge(page)).toEqual([]);
    const tapTargets = await page
      .locator('easel-archive-view button')
      .evaluateAll((els: any[]) => els.map((el) => el.getBoundingClientRect().height));
    expect(Math.min(...tapTargets)).toBeGreaterThanOrEqual(44);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });
});
