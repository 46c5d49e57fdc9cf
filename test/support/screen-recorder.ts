import type { Page } from 'playwright-core';
import sharp from 'sharp';
import { codeOf } from './frame-codes.js';
import type { ScreenSample } from './skew-analysis.js';

export interface ScreenRecorder {
  /** Every picture of the screen decoded so far, in the order the browser sent them. */
  readonly samples: readonly ScreenSample[];
  /**
   * For each picture, when it reached this process (Date.now()) minus its timestamp: small and
   * positive when the timestamp is this machine's wall clock, whatever the page's clock says.
   */
  readonly lagsMs: readonly number[];
  stop(): Promise<void>;
}

/** The mean colour of the middle quarter of a screen picture: the corners may hold the time or a label. */
async function middleColour(jpeg: Buffer): Promise<number[]> {
  const image = sharp(jpeg);
  const { width = 0, height = 0 } = await image.metadata();
  const box = {
    left: Math.floor(width / 4),
    top: Math.floor(height / 4),
    width: Math.max(1, Math.floor(width / 2)),
    height: Math.max(1, Math.floor(height / 2)),
  };
  const { channels } = await image.extract(box).stats();
  return channels.slice(0, 3).map((c) => c.mean);
}

/**
 * Records when each new picture reached the screen, from outside the page: DevTools' screencast
 * sends a small JPEG every time the compositor produces a changed frame, stamped with the
 * browser's wall-clock time of that frame (`metadata.timestamp`, seconds). The page's scripts
 * cannot move that clock. Each picture is acknowledged at once (the browser sends no more until
 * it is) and decoded afterwards, one after another so the order holds.
 */
export async function recordScreen(page: Page): Promise<ScreenRecorder> {
  const cdp = await page.context().newCDPSession(page);
  const samples: ScreenSample[] = [];
  const lagsMs: number[] = [];
  let decoding = Promise.resolve();
  let stopped = false;
  cdp.on('Page.screencastFrame', (event) => {
    const receivedAt = Date.now();
    cdp.send('Page.screencastFrameAck', { sessionId: event.sessionId }).catch(() => {});
    if (stopped || event.metadata.timestamp === undefined) return;
    const t = event.metadata.timestamp * 1000;
    lagsMs.push(receivedAt - t);
    const jpeg = Buffer.from(event.data, 'base64');
    decoding = decoding.then(async () => {
      samples.push({ t, code: codeOf(await middleColour(jpeg)) });
    });
  });
  await cdp.send('Page.startScreencast', { format: 'jpeg', quality: 30, maxWidth: 320, maxHeight: 180, everyNthFrame: 1 });
  return {
    samples,
    lagsMs,
    async stop() {
      stopped = true;
      await cdp.send('Page.stopScreencast').catch(() => {});
      await decoding;
      await cdp.detach().catch(() => {});
    },
  };
}
