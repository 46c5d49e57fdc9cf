import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, CDPSession } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_LEAD_MS, waitingCap } from '../../display/src/present-scheduler.js';
import { noisyJpeg } from '../support/images.js';
import { launchChromium, openPage, stats, type WatchedPage } from './browser.js';
import { startDisplayServer, type DisplayServer } from './fixtures.js';

declare const document: any;
declare const window: any;

/** Frames to feed after the warm-up: ~85 s at 30 FPS, the longest test of the suite. */
const FRAMES = 2_500;
const WARM_UP_FRAMES = 150;
/** JS heap growth allowed over the run, after a forced GC at both ends. */
const MAX_HEAP_GROWTH_BYTES = 2 * 1024 * 1024;
/** Growth allowed for all Chromium processes together (~250 MB of frames pass through). */
const MAX_RSS_GROWTH_BYTES = 64 * 1024 * 1024;

let server: DisplayServer;
let browser: Browser;
let watched: WatchedPage | undefined;
const FPS = 30;

beforeAll(async () => {
  // Noise, so every frame weighs something (~100 KB encoded, 0.6 MB decoded): a leaked
  // bitmap or blob per frame would add up to gigabytes, not hide in rounding.
  const images = await Promise.all(
    Array.from({ length: 8 }, async (_, i) => ({ name: `${i}.jpg`, data: await noisyJpeg(384, 384, i + 1) })),
  );
  [server, browser] = await Promise.all([startDisplayServer([{ slug: 'fast', fps: FPS, size: 384, images }]), launchChromium()]);
});

afterAll(async () => {
  await watched?.close();
  await browser?.close();
  await server?.close();
});

/** Resident memory of every Chromium process (browser, renderer, GPU, utility), from /proc. */
async function chromiumRss(browserCdp: CDPSession): Promise<number> {
  const { processInfo } = await browserCdp.send('SystemInfo.getProcessInfo');
  let total = 0;
  for (const { id } of processInfo) {
    try {
      const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${id}/status`, 'utf8'))?.[1];
      total += Number(kb ?? 0) * 1024;
    } catch {
      // a process that just ended
    }
  }
  return total;
}

async function heap(cdp: CDPSession): Promise<{ usedBytes: number; nodes: number; listeners: number }> {
  await cdp.send('HeapProfiler.collectGarbage');
  const { usedSize } = await cdp.send('Runtime.getHeapUsage');
  const counters = await cdp.send('Memory.getDOMCounters');
  return { usedBytes: usedSize, nodes: counters.nodes, listeners: counters.jsEventListeners };
}

describe('a display left running', () => {
  it(`keeps bitmaps, DOM, JS heap and process memory flat over ${FRAMES} frames at 30 FPS with crossfades`, {
    timeout: 180_000,
  }, async () => {
    watched = await openPage(browser, 640, 480);
    const { page } = watched;
    const cdp = await page.context().newCDPSession(page);
    const browserCdp = await browser.newBrowserCDPSession();
    await cdp.send('HeapProfiler.enable');
    await page.goto(server.http('/c/fast?transition=crossfade&transitionMs=400'));
    await expect.poll(async () => (await stats(page)).framesReceived, { timeout: 20_000 }).toBeGreaterThanOrEqual(WARM_UP_FRAMES);

    const start = await stats(page);
    const before = await heap(cdp);
    const rssBefore = await chromiumRss(browserCdp);
    let peakLive = 0;
    const startedAt = Date.now();
    await expect
      .poll(
        async () => {
          const s = await stats(page);
          peakLive = Math.max(peakLive, s.liveBitmaps);
          return s.framesReceived - start.framesReceived;
        },
        { timeout: 150_000, interval: 500 },
      )
      .toBeGreaterThanOrEqual(FRAMES);
    const seconds = (Date.now() - startedAt) / 1000;
    const end = await stats(page);
    const after = await heap(cdp);
    const rssAfter = await chromiumRss(browserCdp);

    const result = {
      frames: end.framesReceived - start.framesReceived,
      shown: end.framesShown - start.framesShown,
      dropped: end.framesDropped - start.framesDropped,
      late: end.framesLate - start.framesLate,
      seconds: Math.round(seconds * 10) / 10,
      fps: Math.round(((end.framesReceived - start.framesReceived) / seconds) * 10) / 10,
      liveBitmapsAtEnd: end.liveBitmaps,
      peakLiveBitmaps: Math.max(peakLive, end.peakLiveBitmaps),
      heapBefore: before.usedBytes,
      heapAfter: after.usedBytes,
      chromiumRssBefore: rssBefore,
      chromiumRssAfter: rssAfter,
      megabytesReceived: Math.round((end.bytesReceived - start.bytesReceived) / 1e5) / 10,
      domNodes: [before.nodes, after.nodes],
      listeners: [before.listeners, after.listeners],
    };
    // The numbers go into the issue; keep them where a person can find them after the run.
    writeFileSync(path.join(tmpdir(), 'easel-long-run.json'), `${JSON.stringify(result, null, 2)}\n`);

    expect(end).toMatchObject({ state: 'open', decodeErrors: 0, badMessages: 0, disconnects: 0 });
    // Frames wait for their presentAt (every frame of the lead, capped) plus one decode in flight: never an open-ended queue.
    expect(result.peakLiveBitmaps).toBeLessThanOrEqual(waitingCap(FPS, DEFAULT_LEAD_MS) + 1);
    expect(result.liveBitmapsAtEnd).toBeLessThanOrEqual(waitingCap(FPS, DEFAULT_LEAD_MS) + 1);
    // Every frame is shown, or replaced by a newer one before its decode or its refresh, or still
    // waiting for its time. How many a software-rendering headless Chromium on a busy 2-core box
    // skips varies; most are shown.
    expect(result.shown + result.dropped + waitingCap(FPS, DEFAULT_LEAD_MS) + 1).toBeGreaterThanOrEqual(result.frames);
    expect(result.shown).toBeGreaterThan(result.frames * 0.3);
    expect(after.usedBytes - before.usedBytes).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
    // Hundreds of megabytes went through: a bitmap or blob kept per frame would show here.
    expect(rssAfter - rssBefore).toBeLessThan(MAX_RSS_GROWTH_BYTES);
    expect(after.nodes - before.nodes).toBeLessThanOrEqual(10);
    // Taken off the page, the display lets go of every bitmap it still held: frames waiting for
    // their time and a decode in flight included.
    await page.evaluate(() => {
      const el = document.querySelector('easel-canvas');
      window.__removedCanvas = el;
      el.remove();
    });
    await expect.poll(() => page.evaluate(() => window.__removedCanvas.stats.liveBitmaps), { timeout: 5_000 }).toBe(0);
    // A listener kept per frame would be thousands; a pending timer or reconnect at the moment of
    // measuring adds one or two (the final CI run saw 3).
    expect(after.listeners - before.listeners).toBeLessThanOrEqual(5);
    expect(watched.problems).toEqual([]);
  });
});
