import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import type { EaselCanvasStats } from '../../display/src/canvas-stats.js';

// The callbacks given to page.evaluate run in the browser. The project's tsconfig has no DOM
// lib on purpose (server code must not see one), so the little DOM they touch is declared here
// and every test reaches the page through the helpers of this file.
declare const document: any;
declare const window: any;
declare const getComputedStyle: any;

export const CHROMIUM = process.env.EASEL_TEST_CHROMIUM ?? '/usr/bin/chromium';

/** Debian's chromium, headless, with nothing reaching out to the network on its own. */
export function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Cannot run the browser tests: there is no Chromium at "${CHROMIUM}". Install Debian's (apt-get install -y chromium) or set EASEL_TEST_CHROMIUM to another Chromium`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface WatchedPage {
  page: Page;
  context: BrowserContext;
  /** Console errors and warnings, and uncaught exceptions, since the page opened. */
  problems: string[];
  close(): Promise<void>;
}

/** A fresh context and page of the given size that records everything the page complains about. */
export async function openPage(browser: Browser, width: number, height: number): Promise<WatchedPage> {
  const context = await browser.newContext({ viewport: { width, height }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error' || msg.type() === 'warning') problems.push(`${msg.type()}: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`));
  return { page, context, problems, close: () => context.close() };
}

export type Rgb = [number, number, number];

export const RED: Rgb = [255, 0, 0];
export const BLUE: Rgb = [0, 0, 255];
export const GREEN: Rgb = [0, 255, 0];
export const BLACK: Rgb = [0, 0, 0];

/** The colour on screen at (x, y), from a real screenshot of the pixels around it. */
export async function pixelAt(page: Page, x: number, y: number): Promise<Rgb> {
  const png = await page.screenshot({ clip: { x: x - 2, y: y - 2, width: 4, height: 4 }, animations: 'allow' });
  const { data } = await sharp(png).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return [data[0]!, data[1]!, data[2]!];
}

/** Whether a pixel is this colour, give or take lossy encoding. */
export function isColour(actual: Rgb, expected: Rgb, tolerance = 30): boolean {
  return actual.every((v, i) => Math.abs(v - expected[i]!) <= tolerance);
}

/** `el.stats` of each `<easel-canvas>` on the page, looking inside `<easel-wall>` too. */
export function allStats(page: Page): Promise<EaselCanvasStats[]> {
  return page.evaluate(() => {
    const wall = document.querySelector('easel-wall');
    const canvases = [...document.querySelectorAll('easel-canvas'), ...(wall?.shadowRoot?.querySelectorAll('easel-canvas') ?? [])];
    return canvases.map((c: any) => c.stats);
  });
}

export async function stats(page: Page, index = 0): Promise<EaselCanvasStats> {
  const all = await allStats(page);
  const s = all[index];
  if (!s) throw new Error(`Expected an <easel-canvas> number ${index} on the page but found ${all.length}`);
  return s;
}

/** The time shown in the corner of each canvas, '' where none is shown. */
export function shownTimes(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const wall = document.querySelector('easel-wall');
    const canvases = [...document.querySelectorAll('easel-canvas'), ...(wall?.shadowRoot?.querySelectorAll('easel-canvas') ?? [])];
    return canvases.map((c: any) => c.shadowRoot?.querySelector('.time')?.textContent?.trim() ?? '');
  });
}

/**
 * The time in the first canvas's corner and the stats of the frame it shows, read in one step:
 * frames keep arriving, so two separate reads can straddle a new frame on a busy machine.
 */
export function shownTimeWithStats(page: Page): Promise<{ time: string; stats: EaselCanvasStats | null }> {
  return page.evaluate(() => {
    const wall = document.querySelector('easel-wall');
    const c: any = [...document.querySelectorAll('easel-canvas'), ...(wall?.shadowRoot?.querySelectorAll('easel-canvas') ?? [])][0];
    return { time: c?.shadowRoot?.querySelector('.time')?.textContent?.trim() ?? '', stats: c ? c.stats : null };
  });
}

export interface Chrome {
  viewport: { width: number; height: number };
  scroll: { width: number; height: number };
  /** Whether the page could scroll or show a scrollbar at all. */
  scrollable: boolean;
  /** Interactive or visible-control elements anywhere, shadow roots included. */
  controls: string[];
  /** Shown elements whose cursor is not `none`. */
  cursors: string[];
  /** The page and display elements whose text could be selected. */
  selectable: string[];
  /** Text boxes shown (tag.class and their size). */
  texts: Array<{ what: string; width: number; height: number; right: number; bottom: number }>;
}

/** Tag names of the elements (shadow DOM included) that reach past the right edge: sideways scrolling on a phone. */
export function elementsPastRightEdge(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const all: any[] = [];
    const roots: any[] = [document];
    while (roots.length > 0) {
      for (const el of roots.pop().querySelectorAll('*')) {
        all.push(el);
        if (el.shadowRoot) roots.push(el.shadowRoot);
      }
    }
    const de = document.documentElement;
    return all.filter((el) => el.getBoundingClientRect().right > de.clientWidth + 0.5).map((el) => el.tagName.toLowerCase());
  });
}

/** Everything a visitor could see or touch besides the frames, read from the live page. */
export async function inspectChrome(page: Page): Promise<Chrome> {
  // No named functions inside: tsx would wrap them in a helper the page does not have.
  const found = await page.evaluate(() => {
    const all: any[] = [];
    const roots: any[] = [document];
    while (roots.length > 0) {
      for (const el of roots.pop().querySelectorAll('*')) {
        all.push(el);
        if (el.shadowRoot) roots.push(el.shadowRoot);
      }
    }
    const described = all.map((el) => {
      const r = el.getBoundingClientRect();
      const style = getComputedStyle(el);
      return {
        what: `${el.tagName.toLowerCase()}${typeof el.className === 'string' && el.className.trim() ? `.${el.className.trim().split(/\s+/).join('.')}` : ''}`,
        control: el.matches(
          'button, input, select, textarea, a[href], [role=button], [controls], [contenteditable], iframe, dialog, progress, meter',
        ),
        shown: r.width > 0 && r.height > 0 && style.visibility !== 'hidden',
        display: el.tagName.startsWith('EASEL-'),
        leafText: el.children.length === 0 && el.textContent.trim() !== '',
        cursor: style.cursor,
        userSelect: style.userSelect,
        width: r.width,
        height: r.height,
        right: r.right,
        bottom: r.bottom,
      };
    });
    const de = document.documentElement;
    const bodyStyle = getComputedStyle(document.body);
    return {
      described,
      body: { cursor: bodyStyle.cursor, userSelect: bodyStyle.userSelect, overflow: [bodyStyle.overflow, getComputedStyle(de).overflow] },
      viewport: { width: window.innerWidth, height: window.innerHeight },
      scroll: { width: Math.max(de.scrollWidth, document.body.scrollWidth), height: Math.max(de.scrollHeight, document.body.scrollHeight) },
    };
  });
  const shown = found.described.filter((d) => d.shown);
  return {
    viewport: found.viewport,
    scroll: found.scroll,
    scrollable:
      found.scroll.width > found.viewport.width ||
      found.scroll.height > found.viewport.height ||
      !found.body.overflow.every((o) => o === 'hidden'),
    controls: found.described.filter((d) => d.control).map((d) => d.what),
    cursors: [...(found.body.cursor === 'none' ? [] : ['body']), ...shown.filter((d) => d.cursor !== 'none').map((d) => d.what)],
    // user-select is not inherited as a computed value, so it is read where it is set.
    selectable: [
      ...(found.body.userSelect === 'none' ? [] : ['body']),
      ...found.described.filter((d) => d.display && d.userSelect !== 'none').map((d) => d.what),
    ],
    texts: shown.filter((d) => d.leafText).map(({ what, width, height, right, bottom }) => ({ what, width, height, right, bottom })),
  };
}

/** The centre of each canvas element on the page, in CSS pixels. */
export function canvasCentres(page: Page): Promise<Array<{ x: number; y: number }>> {
  return page.evaluate(() => {
    const wall = document.querySelector('easel-wall');
    const canvases = [...document.querySelectorAll('easel-canvas'), ...(wall?.shadowRoot?.querySelectorAll('easel-canvas') ?? [])];
    return canvases.map((c: any) => {
      const r = c.getBoundingClientRect();
      return { x: Math.round(r.left + r.width / 2), y: Math.round(r.top + r.height / 2) };
    });
  });
}
