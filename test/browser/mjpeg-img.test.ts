import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLUE, isColour, launchChromium, openPage, pixelAt, RED, type Rgb } from './browser.js';
import { startDisplayServer, type DisplayServer } from './fixtures.js';

declare const document: any;

let server: DisplayServer;
let browser: Browser | undefined;

beforeAll(async () => {
  server = await startDisplayServer([
    {
      slug: 'signage',
      fps: 4,
      images: [
        { name: 'a.png', colour: '#ff0000', width: 640, height: 480 },
        { name: 'b.png', colour: '#0000ff', width: 640, height: 480 },
      ],
    },
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the MJPEG stream in a plain <img>', () => {
  it('shows in Chromium at the rendition ?w= picks, and the picture changes with the canvas', async () => {
    browser = await launchChromium();
    const watched = await openPage(browser, 640, 480);
    const { page } = watched;
    // A page of nothing but the <img>, from elsewhere: all an old signage player would have.
    await page.setContent(`<body style="margin:0"><img id="stream" src="${server.http('/c/signage.mjpeg?w=320&h=240')}"></body>`);
    await expect
      .poll(() => page.evaluate(() => [document.getElementById('stream').naturalWidth, document.getElementById('stream').naturalHeight]), {
        timeout: 15_000,
      })
      // Rounded up to a step like a display's screen (480 px on the long edge), so readers share it.
      .toEqual([480, 360]);

    // Red and blue alternate at 4 FPS: screenshots must see both, each more than once.
    const seen: string[] = [];
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline && (seen.filter((c) => c === 'red').length < 2 || seen.filter((c) => c === 'blue').length < 2)) {
      const pixel: Rgb = await pixelAt(page, 160, 120);
      const colour = isColour(pixel, RED) ? 'red' : isColour(pixel, BLUE) ? 'blue' : 'other';
      if (seen.at(-1) !== colour) seen.push(colour);
    }
    expect(seen.filter((c) => c === 'red').length).toBeGreaterThanOrEqual(2);
    expect(seen.filter((c) => c === 'blue').length).toBeGreaterThanOrEqual(2);
    expect(seen).not.toContain('other');
    expect(server.server.registry.get('signage')?.channel.displays.size).toBe(1);
    expect(watched.problems).toEqual([]);
    await watched.close();
    // The page is gone: so is its reader.
    await expect.poll(() => server.server.mjpeg.readers, { timeout: 10_000 }).toBe(0);
  });
});
