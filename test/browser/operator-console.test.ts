import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CanvasInfo, JobInfo } from '../../display/src/console/api-types.js';
import { applyCanvasList, applyEvent, emptyModel, FEED_LIMIT, vanishedJobs } from '../../display/src/console/console-model.js';
import { eventWords, jobWords, sourceTrouble, sourceWords } from '../../display/src/console/describe.js';
import { startDevInferenceService, type DevInferenceService } from '../../tools/inference-dev.js';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ReportMessage } from '../../protocol/wire.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { elementsPastRightEdge, launchChromium, openPage, type WatchedPage } from './browser.js';

// See browser.ts: the callbacks given to page.evaluate run in the page, which has a DOM.
declare const document: any;
declare const localStorage: any;
declare const Event: any;
declare const getComputedStyle: any;

const TOKEN = 'console-test-token';
let server: TestServer;
let dev: DevInferenceService;
let browser: Browser;
const folders: Array<ReturnType<typeof tempFolder>> = [];

beforeAll(async () => {
  const images = tempFolder('easel-console-');
  const playlists = tempFolder('easel-console-playlists-');
  folders.push(images, playlists);
  putImage(images.dir, 'a.png', await solidPng('#c04040', 256, 256));
  putImage(images.dir, 'b.png', await solidPng('#4060c0', 256, 256));
  writeFileSync(
    path.join(playlists.dir, 'slow-show.yaml'),
    `loop: true\nsteps:\n  - folder: ${JSON.stringify(images.dir)}\n    duration: 60s\n  - pause:\n    duration: 20s\n`,
  );
  dev = await startDevInferenceService({ latencyMs: 40 });
  [server, browser] = await Promise.all([
    startTestServer({
      EASEL_OPERATOR_TOKEN: TOKEN,
      EASEL_FOLDER: images.dir,
      EASEL_FALLBACK_FOLDER: images.dir,
      EASEL_INFERENCE_ENDPOINTS: dev.address,
      EASEL_INFERENCE_WIDTH: '256',
      EASEL_INFERENCE_HEIGHT: '256',
      EASEL_PLAYLISTS_DIR: playlists.dir,
      EASEL_LOG_LEVEL: 'warn',
      EASEL_CANVASES: JSON.stringify([
        { slug: 'left-canva', source: { type: 'folder' } },
        { slug: 'right-canva', source: { type: 'folder', order: 'shuffle' } },
      ]),
    }),
    launchChromium(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await dev?.close({ force: true });
  for (const f of folders) f.remove();
});

/** A card of the console, found by its canvas (Playwright's CSS selectors pierce shadow roots). */
const card = (page: Page, slug: string): Locator => page.locator(`easel-canvas-card[data-slug="${slug}"]`);
const field = (page: Page, slug: string, role: string): Locator => card(page, slug).locator(`[data-role="${role}"]`);

/** Opens /operator in a fresh context (nothing stored) and unlocks it with `token`. */
async function openConsole(width: number, height: number, token = TOKEN): Promise<WatchedPage> {
  const watched = await openPage(browser, width, height);
  const { page } = watched;
  await page.goto(server.http('/operator'));
  await page.getByLabel('Operator token').fill(token);
  await page.getByRole('button', { name: 'Open' }).click();
  await expect.poll(() => page.locator('easel-canvas-card').count()).toBe(2);
  return watched;
}

/** The seq of the last frame a card shows ("#12 at ..."), 0 before the first. */
async function lastSeq(page: Page, slug: string): Promise<number> {
  const text = await field(page, slug, 'last-frame').textContent();
  return Number(/#(\d+)/.exec(text ?? '')?.[1] ?? 0);
}

describe('the operator console', () => {
  it('is served at /operator, and no other site may frame it', async () => {
    const res = await fetch(server.http('/operator'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(await res.text()).toContain('<title>Easel console</title>');
    // The display pages stay frameable (signage software embeds them) and control-free.
    expect((await fetch(server.http('/c/left-canva'))).headers.get('x-frame-options')).toBeNull();
  });

  it('asks for the token first, then shows every canvas with its source, state, displays and live preview', async () => {
    const watched = await openPage(browser, 1280, 800);
    const { page } = watched;
    await page.goto(server.http('/operator'));
    await expect.poll(() => page.getByRole('heading', { name: 'Easel console' }).isVisible()).toBe(true);
    expect(await page.locator('easel-canvas-card').count()).toBe(0);
    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.locator('easel-canvas-card').count()).toBe(2);
    expect(await page.evaluate(() => localStorage.getItem('easel.operatorToken'))).toBe(TOKEN);

    await expect.poll(() => field(page, 'left-canva', 'state').textContent()).toMatch(/Streaming|Holding/);
    expect(await field(page, 'left-canva', 'source').textContent()).toMatch(/^Folder .*\(2 images\)$/);
    expect(await field(page, 'right-canva', 'source').textContent()).toMatch(/\(2 images, shuffled\)$/);
    // Its own preview is a display the server counts; the card says so rather than count it.
    await expect.poll(() => field(page, 'left-canva', 'displays').textContent()).toBe('none besides this preview');
    await expect.poll(() => lastSeq(page, 'left-canva')).toBeGreaterThan(0);
    // The preview is a real <easel-canvas> showing frames, sized like a thumbnail.
    await expect
      .poll(() =>
        card(page, 'left-canva')
          .locator('easel-canvas')
          .evaluate((el: any) => ({ shown: el.stats.framesShown, width: el.getBoundingClientRect().width })),
      )
      .toSatisfy((p: { shown: number; width: number }) => p.shown > 0 && p.width > 50 && p.width < 200);
    await expect.poll(() => card(page, 'left-canva').getByLabel('Playlist', { exact: true }).inputValue()).toBe('slow-show');
    await expect.poll(() => page.getByRole('status').filter({ hasText: 'Live' }).count()).toBe(1);
    // The token is kept: a reload opens the console at once.
    await page.reload();
    await expect.poll(() => page.locator('easel-canvas-card').count()).toBe(2);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it('submits a prompt and follows its job to done, the canvas then generating it', async () => {
    const watched = await openConsole(1280, 800);
    const { page } = watched;
    const before = await lastSeq(page, 'left-canva');
    const prompt = 'a red boat on a calm sea';
    await card(page, 'left-canva').getByLabel('Prompt', { exact: true }).fill(prompt);
    await card(page, 'left-canva').getByRole('button', { name: 'Generate' }).click();

    // queued → generating n/4 → done, from the events stream.
    await expect.poll(() => field(page, 'left-canva', 'job').getAttribute('data-state')).toBe('done');
    expect(await field(page, 'left-canva', 'job').locator('[role="status"]').textContent()).toBe('Done: 4 frames shown');
    expect(await field(page, 'left-canva', 'job').locator('.prompt').textContent()).toBe(`“${prompt}”`);
    await expect.poll(() => field(page, 'left-canva', 'source').textContent()).toBe(`Generating “${prompt}”`);
    await expect.poll(() => lastSeq(page, 'left-canva')).toBeGreaterThan(before + 3);
    const feed = page.locator('easel-event-feed li');
    await expect
      .poll(() => feed.allTextContents())
      .toEqual(
        expect.arrayContaining([
          expect.stringContaining(`left-canva: New prompt “${prompt}” (via HTTP`),
          expect.stringContaining(`left-canva: “${prompt}” done: 4 frames shown`),
        ]),
      );
    // The feed is newest first.
    const lines = await feed.allTextContents();
    expect(lines.findIndex((l) => l.includes('done: 4 frames'))).toBeLessThan(lines.findIndex((l) => l.includes('New prompt')));
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it('pauses and resumes a canvas', async () => {
    const watched = await openConsole(1280, 800);
    const { page } = watched;
    const right = card(page, 'right-canva');
    await right.getByRole('button', { name: 'Pause' }).click();
    await expect.poll(() => field(page, 'right-canva', 'state').textContent()).toBe('Paused');
    expect(await right.getByRole('button', { name: 'Pause' }).isDisabled()).toBe(true);
    // Two refreshes later (each moves the "… s ago" on), a poll sent before the pause has not flipped it back.
    for (let i = 0; i < 2; i++) {
      const shown = await field(page, 'right-canva', 'last-frame').textContent();
      await expect.poll(() => field(page, 'right-canva', 'last-frame').textContent()).not.toBe(shown);
    }
    expect(await field(page, 'right-canva', 'state').textContent()).toBe('Paused');
    const seq = await lastSeq(page, 'right-canva');
    await right.getByRole('button', { name: 'Resume' }).click();
    await expect.poll(() => field(page, 'right-canva', 'state').textContent()).toMatch(/Streaming|Holding/);
    await expect.poll(() => lastSeq(page, 'right-canva')).toBeGreaterThan(seq);
    await expect
      .poll(() => page.locator('easel-event-feed li').allTextContents())
      .toEqual(
        expect.arrayContaining([
          expect.stringContaining('right-canva: Paused (via HTTP'),
          expect.stringContaining('right-canva: Resumed (via HTTP'),
        ]),
      );
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it('starts a playlist on a canvas, shows its step, and stops it', async () => {
    const watched = await openConsole(1280, 800);
    const { page } = watched;
    const right = card(page, 'right-canva');
    await expect.poll(() => right.getByRole('button', { name: 'Stop' }).isDisabled()).toBe(true);
    await right.getByLabel('Playlist', { exact: true }).selectOption('slow-show');
    await right.getByRole('button', { name: 'Start' }).click();
    await expect.poll(() => field(page, 'right-canva', 'playlist').textContent()).toMatch(/^“slow-show” step 1\/2/);
    await expect
      .poll(() => page.locator('easel-event-feed li').allTextContents())
      .toEqual(
        expect.arrayContaining([
          expect.stringContaining('right-canva: Playlist started “slow-show” (via HTTP'),
          expect.stringMatching(/Playlist “slow-show” on right-canva: step 1\/2/),
        ]),
      );
    await right.getByRole('button', { name: 'Stop' }).click();
    await expect.poll(() => field(page, 'right-canva', 'playlist').count()).toBe(0);
    await expect.poll(() => right.getByRole('button', { name: 'Stop' }).isDisabled()).toBe(true);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it('says "No playlists" for a server that has none to list', async () => {
    const watched = await openPage(browser, 390, 844);
    const { page } = watched;
    await page.route('**/api/playlists', (route) =>
      route.fulfill({ status: 404, contentType: 'application/problem+json', json: { title: 'Not found', status: 404 } }),
    );
    await page.goto(server.http('/operator'));
    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => field(page, 'left-canva', 'no-playlists').textContent()).toBe('No playlists');
    expect(await card(page, 'left-canva').getByRole('button', { name: 'Start' }).count()).toBe(0);
    expect(watched.problems.filter((p) => !/status of 404/.test(p))).toEqual([]);
    await watched.close();
  });

  it("keeps a wrong token at the gate with the server's hint; the right one opens and its first command works", async () => {
    const watched = await openPage(browser, 390, 844);
    const { page } = watched;
    await page.goto(server.http('/operator'));
    await page.getByLabel('Operator token').fill('not-the-token');
    await page.getByRole('button', { name: 'Open' }).click();
    const alert = page.locator('easel-token-gate easel-problem [role="alert"]');
    await expect.poll(() => alert.textContent()).toContain('Operator token not accepted');
    expect(await alert.textContent()).toContain('EASEL_OPERATOR_TOKEN');
    // Still the gate: the console never opened on a token the server refuses.
    expect(await page.locator('easel-canvas-card').count()).toBe(0);
    expect(await page.getByLabel('Operator token').isVisible()).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem('easel.operatorToken'))).toBeNull();
    // The right token opens it, and the very first command goes through.
    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByRole('button', { name: 'Open' }).click();
    await expect.poll(() => page.locator('easel-canvas-card').count()).toBe(2);
    await card(page, 'left-canva').getByRole('button', { name: 'Next frame' }).click();
    await expect
      .poll(() => page.locator('easel-event-feed li').allTextContents())
      .toEqual(expect.arrayContaining([expect.stringContaining('left-canva: Skipped to the next frame')]));
    expect(await card(page, 'left-canva').locator('easel-problem .box').count()).toBe(0);
    expect(await page.getByLabel('Operator token').count()).toBe(0);
    // The browser reports the refused check itself; nothing else may complain.
    expect(watched.problems.filter((p) => !/status of 403/.test(p))).toEqual([]);
    await watched.close();
  });

  it('checks a token kept from an earlier visit: a stale one brings the gate back with the hint', async () => {
    const watched = await openPage(browser, 390, 844);
    const { page } = watched;
    await page.addInitScript(() => localStorage.setItem('easel.operatorToken', 'from-before-the-restart'));
    await page.goto(server.http('/operator'));
    const alert = page.locator('easel-token-gate easel-problem [role="alert"]');
    await expect.poll(() => alert.textContent()).toContain('Operator token not accepted');
    expect(await page.locator('easel-canvas-card').count()).toBe(0);
    expect(watched.problems.filter((p) => !/status of 403/.test(p))).toEqual([]);
    await watched.close();
  });

  it("asks for the token again, with the server's hint, when a command is refused for it later", async () => {
    const watched = await openConsole(390, 844);
    const { page } = watched;
    // The token changed on the server since the console opened.
    await page.route('**/api/canvases/left-canva/next', (route) =>
      route.fulfill({
        status: 403,
        contentType: 'application/problem+json',
        json: { title: 'Operator token not accepted', status: 403, hint: 'Use the token from EASEL_OPERATOR_TOKEN' },
      }),
    );
    await card(page, 'left-canva').getByRole('button', { name: 'Next frame' }).click();
    await expect.poll(() => page.getByLabel('Operator token').isVisible()).toBe(true);
    expect(await page.locator('easel-token-gate easel-problem [role="alert"]').textContent()).toContain('EASEL_OPERATOR_TOKEN');
    expect(await page.evaluate(() => localStorage.getItem('easel.operatorToken'))).toBeNull();
    expect(watched.problems.filter((p) => !/status of 403/.test(p))).toEqual([]);
    await watched.close();
  });

  it('shows an error from the API on the card, with its hint', async () => {
    const watched = await openPage(browser, 1280, 800);
    const { page } = watched;
    // A list that is out of date: the playlist has gone from the server since.
    await page.route('**/api/playlists', (route) => route.fulfill({ json: { playlists: [{ name: 'no-such-show' }] } }));
    await page.goto(server.http('/operator'));
    await page.getByLabel('Operator token').fill(TOKEN);
    await page.getByRole('button', { name: 'Open' }).click();
    const left = card(page, 'left-canva');
    await expect.poll(() => left.getByLabel('Playlist', { exact: true }).inputValue()).toBe('no-such-show');
    await left.getByRole('button', { name: 'Start' }).click();
    const problem = left.locator('easel-problem [role="alert"]');
    await expect.poll(() => problem.locator('.title').textContent()).toBe('Not found: Playlist "no-such-show" does not exist');
    expect(await problem.locator('.hint').textContent()).toBe('Known playlists: slow-show');
    // An empty prompt is refused before it is sent.
    await left.getByRole('button', { name: 'Generate' }).click();
    await expect.poll(() => problem.locator('.title').textContent()).toBe('No prompt');
    expect(watched.problems.filter((p) => !/status of 4\d\d/.test(p))).toEqual([]);
    await watched.close();
  });

  it('stops the live previews while the page is hidden, and brings them back', async () => {
    const watched = await openConsole(390, 844);
    const { page } = watched;
    const previews = page.locator('easel-canvas-card easel-canvas');
    await expect.poll(() => previews.count()).toBe(2);
    const hide = (hidden: boolean) =>
      page.evaluate((h: boolean) => {
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (h ? 'hidden' : 'visible') });
        document.dispatchEvent(new Event('visibilitychange'));
      }, hidden);
    await hide(true);
    await expect.poll(() => previews.count()).toBe(0);
    // The server no longer counts them as displays.
    const displays = async () =>
      ((await (await fetch(server.http('/api/canvases'))).json()) as { canvases: CanvasInfo[] }).canvases.map((c) => c.displays);
    await expect.poll(displays).toEqual([0, 0]);
    await hide(false);
    await expect.poll(() => previews.count()).toBe(2);
    await expect.poll(displays).toEqual([1, 1]);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });

  it("lists a canvas's screens with their clock sync once opened, the uncertain one first and marked, on a phone", async () => {
    // Two screens speaking easel.v2 report their clock as Easel's page does.
    const steady = new DisplayClient(server.ws('left-canva'));
    const shaky = new DisplayClient(server.ws('left-canva'));
    await Promise.all([steady.opened, shaky.opened]);
    const report = (client: DisplayClient, r: Omit<ReportMessage, 'type'>) =>
      client.socket.send(JSON.stringify({ type: 'report', ...r } satisfies ReportMessage));
    report(steady, { offsetMs: 1.5, rttMs: 3, errorMs: 1.5, shown: 120, late: 0 });
    report(shaky, { offsetMs: -3_720_000, rttMs: 80, errorMs: 40, shown: 118, late: 2 });
    type Listed = { id: number; rttMs?: number };
    const reported = async () =>
      (
        (await (await fetch(server.http('/api/canvases/left-canva'))).json()) as {
          displayList: Array<{ id: number; sync: { rttMs: number } | null }>;
        }
      ).displayList
        .filter((d) => d.sync !== null)
        .map((d): Listed => ({ id: d.id, rttMs: d.sync!.rttMs }));
    await expect.poll(reported).toHaveLength(2);
    const ids = await reported();
    const shakyId = ids.find((d) => d.rttMs === 80)!.id;
    const steadyId = ids.find((d) => d.rttMs === 3)!.id;

    try {
      const watched = await openConsole(375, 812);
      const { page } = watched;
      const asked = { list: 0, detail: 0 };
      page.on('request', (req) => {
        const { pathname } = new URL(req.url());
        if (pathname === '/api/canvases') asked.list++;
        else if (pathname.startsWith('/api/canvases/') && req.method() === 'GET') asked.detail++;
      });
      // Closed, the section costs nothing: two refreshes of the list go by without a detail request.
      await expect.poll(() => asked.list).toBeGreaterThanOrEqual(2);
      expect(asked.detail).toBe(0);

      const left = card(page, 'left-canva');
      const summary = left.locator('easel-screen-list summary');
      await summary.click();
      expect(await left.locator('easel-screen-list details').evaluate((d: any) => d.open)).toBe(true);
      const row = (id: number) => left.locator(`[data-role="screen"][data-id="${id}"]`);
      await expect.poll(() => row(shakyId).count()).toBe(1);
      // Worst first, marked, with what to do.
      // (The console's own preview is a screen too, and reports as well: it is left out of the order checked.)
      const order = await left.locator('[data-role="screen"]').evaluateAll((rows: any[]) => rows.map((r) => Number(r.dataset.id)));
      expect(order.filter((id) => id === shakyId || id === steadyId)).toEqual([shakyId, steadyId]);
      expect(await row(shakyId).getAttribute('data-health')).toBe('uncertain');
      expect(await row(shakyId).locator('.name').textContent()).toBe('127.0.0.1');
      expect(await row(shakyId).locator('[data-role="screen-sync"] span').allTextContents()).toEqual([
        'clock \u22121 h 2 min',
        'round trip 80 ms',
        'error ±40 ms',
        '2 late of 118 frames',
      ]);
      expect(await row(shakyId).locator('[data-role="screen-note"]').textContent()).toBe(
        "this screen's clock is uncertain to ±40 ms: check its network; 2 of 118 frames came too late to show in step",
      );
      // Amber: the warn tone, on the note and the row's edge.
      const amber = await row(shakyId).evaluate((li: any) => getComputedStyle(li).borderLeftColor);
      expect(amber).toBe('rgb(242, 193, 78)');
      expect(await row(steadyId).getAttribute('data-health')).toBe('ok');
      expect(await row(steadyId).locator('[data-role="screen-sync"] span').allTextContents()).toEqual([
        'clock +1.5 ms',
        'round trip 3 ms',
        'error ±1.5 ms',
        'none late of 120 frames',
      ]);
      expect(await row(steadyId).locator('[data-role="screen-note"]').count()).toBe(0);
      expect(await summary.textContent()).toMatch(/— \d+ needs? a look/);
      expect(await row(shakyId).textContent()).toContain('v2');

      // Still fits the phone with the list open.
      expect(await elementsPastRightEdge(page)).toEqual([]);

      // Open, it follows the screens at the usual refresh: a new report shows up.
      report(steady, { offsetMs: 2_500, rttMs: 5, errorMs: 2, shown: 130, late: 0 });
      await expect.poll(() => row(steadyId).locator('[data-role="screen-sync"] span').first().textContent()).toBe('clock +2.5 s');
      // Closed again, it stops asking (one request may have been on its way).
      await summary.click();
      const asked0 = asked.detail;
      const list0 = asked.list;
      await expect.poll(() => asked.list).toBeGreaterThanOrEqual(list0 + 2);
      expect(asked.detail).toBeLessThanOrEqual(asked0 + 1);
      expect(watched.problems).toEqual([]);
      await watched.close();
    } finally {
      steady.close();
      shaky.close();
      await Promise.all([steady.closed, shaky.closed]);
    }
  });

  it('shows the worst 50 screens of a 2,000-screen wall and says how many more there are', async () => {
    const watched = await openConsole(390, 844);
    const { page } = watched;
    const sync = (errorMs: number, framesLate = 0) => ({
      rttMs: 4,
      errorMs,
      framesShown: 500,
      framesLate,
      reportedAt: new Date().toISOString(),
    });
    const displayList = Array.from({ length: 2_000 }, (_, i) => ({
      id: i + 1,
      address: `10.1.${i >> 8}.${i & 255}`,
      wire: i % 10 === 0 ? 'json' : 'v2',
      rendition: 'webp:1920x1080:inside',
      clockOffsetMs: i * 3,
      sync: i % 10 === 0 ? null : sync(1 + (i % 7)),
    }));
    displayList[1_234] = { ...displayList[1_234]!, sync: sync(25, 4) };
    // A slow reply (a big list on a busy server): the section asks less often than every 2 s.
    const asked: number[] = [];
    await page.route('**/api/canvases/right-canva', async (route) => {
      asked.push(Date.now());
      await new Promise((resolve) => setTimeout(resolve, 600));
      await route.fulfill({ json: { slug: 'right-canva', displayList } });
    });
    const right = card(page, 'right-canva');
    await right.locator('easel-screen-list summary').click();
    const rows = right.locator('[data-role="screen"]');
    await expect.poll(() => rows.count()).toBe(50);
    expect(await rows.first().getAttribute('data-id')).toBe('1235');
    expect(await right.locator('[data-role="screens-more"]').textContent()).toBe('and 1,950 more, none worse than these');
    expect(await right.locator('easel-screen-list summary').textContent()).toMatch(/Screens \(2,000\)\s*— 1 needs a look/);
    // It waits ten times as long as the last load took (here over 0.6 s) before the next: at
    // least 6 s, and longer on a busy machine, where reading the 2,000 screens takes longer too.
    await expect.poll(() => asked.length, { timeout: 75_000, interval: 500 }).toBeGreaterThanOrEqual(2);
    expect(asked[1]! - asked[0]!).toBeGreaterThanOrEqual(6_000);
    expect(watched.problems).toEqual([]);
    await watched.close();
  }, 120_000);

  it('fits a 375 px phone without sideways scrolling, every control with a name', async () => {
    const watched = await openConsole(375, 812);
    const { page } = watched;
    const found = await page.evaluate(() => {
      const all: any[] = [];
      const roots: any[] = [document];
      while (roots.length > 0) {
        for (const el of roots.pop().querySelectorAll('*')) {
          all.push(el);
          if (el.shadowRoot) roots.push(el.shadowRoot);
        }
      }
      const unnamed = all
        .filter((el) => el.matches('button, input:not([type=hidden]):not([hidden]), select, textarea, a[href]'))
        .filter((el) => !(el.getAttribute('aria-label') || el.labels?.length > 0 || el.textContent.trim()))
        .map((el) => el.outerHTML.slice(0, 80));
      const de = document.documentElement;
      const wide = all.filter((el) => el.getBoundingClientRect().right > de.clientWidth + 0.5).map((el) => el.tagName.toLowerCase());
      return { unnamed, scrollWidth: de.scrollWidth, clientWidth: de.clientWidth, wide };
    });
    expect(found.unnamed).toEqual([]);
    expect(found.wide).toEqual([]);
    expect(found.scrollWidth).toBeLessThanOrEqual(found.clientWidth);
    expect(watched.problems).toEqual([]);
    await watched.close();
  });
});

// The console's pure parts, run in Node.

const canvas = (over: Partial<CanvasInfo> = {}): CanvasInfo => ({
  slug: 'lobby',
  state: 'streaming',
  fps: 4,
  source: { kind: 'folder', state: 'ok', details: { path: '/srv/art', images: 12, order: 'name' } },
  displays: 2,
  lastFrame: { seq: 7, imageId: 'i7', timestamp: '2026-01-01T18:30:00.000Z', source: 'folder' },
  job: null,
  ...over,
});
const job = (over: Partial<JobInfo> = {}): JobInfo => ({
  id: 'j1',
  slug: 'lobby',
  prompt: 'a red boat',
  count: 4,
  produced: 0,
  state: 'queued',
  createdAt: '2026-01-01T18:30:00.000Z',
  ...over,
});

describe('the console wording', () => {
  it('says what a canvas shows and what is wrong with its source, with the hint', () => {
    expect(sourceWords(canvas().source)).toBe('Folder /srv/art (12 images)');
    expect(sourceWords({ kind: 'inference', state: 'ok', details: { prompt: 'tide pools' } })).toBe('Generating “tide pools”');
    expect(sourceTrouble(canvas().source)).toBeUndefined();
    expect(
      sourceTrouble({
        kind: 'inference',
        state: 'degraded',
        reason: 'The inference service is unreachable',
        hint: 'Start it',
        details: { fallback: { active: true } },
      }),
    ).toEqual({
      text: 'Trouble: The inference service is unreachable (showing the fallback folder meanwhile)',
      tone: 'warn',
      hint: 'Start it',
    });
    // A state from a newer server is shown by its name, not a crash.
    expect(sourceTrouble({ kind: 'folder', state: 'sleepy' as never, reason: 'zzz' })).toMatchObject({ text: 'sleepy: zzz' });
  });

  it('gives each job state its words', () => {
    expect(jobWords(job()).text).toBe('Queued');
    expect(jobWords(job({ state: 'generating', produced: 2 })).text).toBe('Generating 2/4');
    expect(jobWords(job({ state: 'done', produced: 4 }))).toEqual({ text: 'Done: 4 frames shown', tone: 'good' });
    expect(jobWords(job({ state: 'failed', reason: 'The service refused the request' }))).toEqual({
      text: 'Failed: The service refused the request',
      tone: 'bad',
    });
    expect(jobWords(job({ state: 'cancelled', reason: 'Replaced by a newer prompt' })).text).toBe('Cancelled: Replaced by a newer prompt');
  });

  it('writes one feed line per job state, not one per frame', () => {
    const generating = { type: 'job', job: job({ state: 'generating', produced: 2 }) } as const;
    expect(eventWords(generating, 'generating')).toBeUndefined();
    expect(eventWords(generating, 'queued')?.text).toBe('lobby: “a red boat” generating 2/4');
    expect(eventWords({ type: 'command', slug: 'lobby', command: 'pause', origin: { via: 'osc', who: '10.0.0.9' } })?.text).toBe(
      'lobby: Paused (via OSC, 10.0.0.9)',
    );
    expect(
      eventWords({
        type: 'command',
        slug: 'lobby',
        command: 'source',
        origin: { via: 'playlist', who: 'evening' },
        detail: { type: 'still' },
      })?.text,
    ).toBe('lobby: Source changed to a still image (via playlist, evening)');
    expect(eventWords({ type: 'playlist', slug: 'lobby', name: 'evening', event: 'error', detail: { error: 'No such folder' } })).toEqual({
      text: 'Playlist “evening” hit an error on lobby: No such folder',
      tone: 'bad',
    });
  });
});

describe('the console model', () => {
  it('keeps a change heard after a poll was sent, so a slow poll does not undo a pause', () => {
    let model = applyCanvasList(emptyModel(), [canvas()], 1000);
    model = applyEvent(model, { type: 'canvas', slug: 'lobby', state: 'paused' }, 2000);
    const stale = applyCanvasList(
      model,
      [canvas({ lastFrame: { seq: 9, imageId: 'i9', timestamp: '2026-01-01T18:30:01.000Z', source: 'folder' } })],
      1500,
    );
    expect(stale.canvases[0]).toMatchObject({ state: 'paused', lastFrame: { seq: 9 } });
    expect(applyCanvasList(model, [canvas()], 2500).canvases[0]!.state).toBe('streaming');
  });

  it('drops the card of a removed canvas at once, with a line saying why', () => {
    let model = applyCanvasList(emptyModel(), [canvas(), canvas({ slug: 'visitor' })], 1000);
    model = applyEvent(model, { type: 'canvas', slug: 'visitor', removed: 'idle' }, 2000);
    expect(model.canvases.map((c) => c.slug)).toEqual(['lobby']);
    expect(model.feed[0]!.text).toBe('visitor: removed (no display watched it)');
  });

  it('never moves a job backwards, and keeps it on the card once it has ended', () => {
    let model = applyEvent(emptyModel(), { type: 'job', job: job({ state: 'done', produced: 4 }) }, 1000);
    model = applyEvent(model, { type: 'job', job: job({ state: 'generating', produced: 3 }) }, 1100);
    model = applyCanvasList(model, [canvas({ job: null })], 1200);
    expect(model.jobs.lobby!.job.state).toBe('done');
    expect(model.feed.map((l) => l.text)).toEqual(['lobby: “a red boat” done: 4 frames shown']);
  });

  it('keeps what only the full list says (the playlist) when the events stream says hello again', () => {
    const playlist = { playlist: 'evening-show', stepIndex: 1, stepCount: 4, step: 'pause for 20s' };
    let model = applyCanvasList(emptyModel(), [canvas({ playlist })], 1000);
    const { job: _job, playlist: _playlist, ...hello } = canvas();
    model = applyEvent(model, { type: 'hello', canvases: [hello] }, 2000);
    expect(model.canvases[0]!.playlist).toEqual(playlist);
    expect(applyCanvasList(model, [canvas({ playlist: null })], 3000).canvases[0]!.playlist).toBeNull();
  });

  it('finds a running job whose end it missed, and keeps the feed to its limit', () => {
    let model = applyEvent(emptyModel(), { type: 'job', job: job({ state: 'generating', produced: 1 }) }, 1000);
    expect(vanishedJobs(model, [canvas({ job: null })], 900)).toEqual([]);
    expect(vanishedJobs(model, [canvas({ job: null })], 2000)).toEqual(['j1']);
    for (let i = 0; i < FEED_LIMIT + 10; i++) model = applyEvent(model, { type: 'command', slug: 'lobby', command: 'next' }, 3000 + i);
    expect(model.feed).toHaveLength(FEED_LIMIT);
    expect(model.feed[0]!.at).toBe(3000 + FEED_LIMIT + 9);
  });
});
