import type { Browser } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { meanColour } from '../support/images.js';
import { launchChromium, openPage } from './browser.js';
import { startDisplayServer, type DisplayServer } from './fixtures.js';

declare const window: any;
declare const document: any;

let server: DisplayServer;
let browser: Browser | undefined;

beforeAll(async () => {
  server = await startDisplayServer([
    {
      slug: 'seed',
      fps: 8,
      images: [
        { name: 'a.png', colour: '#ff0000', width: 640, height: 480 },
        { name: 'b.png', colour: '#fa0000', width: 640, height: 480 },
      ],
    },
  ]);
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

describe('the seed-compatible JSON mode', () => {
  it("works with the seed's own client code, unchanged, in Chromium: every message parses and shows", async () => {
    browser = await launchChromium();
    const watched = await openPage(browser, 640, 480);
    // The seed's Canvas component, as it was: no subprotocol, no query, JSON.parse of every message.
    await watched.page.evaluate((url: string) => {
      const seen = { frames: 0, parseErrors: 0, width: 0 };
      window.seen = seen;
      const img = document.createElement('img');
      document.body.append(img);
      img.onload = () => {
        seen.width = img.naturalWidth;
      };
      const ws = new window.WebSocket(url);
      ws.onmessage = (event: { data: string }) => {
        try {
          const data = JSON.parse(event.data);
          seen.frames++;
          img.src = `data:image/jpeg;base64,${data.image}`;
        } catch {
          seen.parseErrors++;
        }
      };
    }, server.ws('seed'));
    await expect.poll(() => watched.page.evaluate(() => window.seen.frames), { timeout: 10_000 }).toBeGreaterThanOrEqual(8);
    const seen = await watched.page.evaluate(() => window.seen);
    expect(seen.parseErrors).toBe(0);
    expect(seen.width).toBe(640);
    expect(watched.problems, watched.problems.join('\n')).toEqual([]);
    await watched.close();
  });

  it('gives a plain client JSON frames whose base64 image decodes as a JPEG of the canvas', async () => {
    const socket = new WebSocket(server.ws('seed'));
    const messages: Array<{ data: string; isBinary: boolean }> = [];
    socket.on('message', (data: Buffer, isBinary) => messages.push({ data: data.toString('utf8'), isBinary }));
    // What the seed's page did: send its keep-alive text, parse every message as a frame.
    socket.on('open', () => socket.send('ping'));
    await expect.poll(() => messages.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    socket.close();

    expect(messages.every((m) => !m.isBinary)).toBe(true);
    const frames = messages.map((m) => JSON.parse(m.data) as { timestamp: string; image: string; image_id: string });
    for (const frame of frames) {
      expect(Object.keys(frame).slice(0, 3)).toEqual(['timestamp', 'image', 'image_id']);
      expect(new Date(frame.timestamp).toISOString()).toBe(frame.timestamp);
    }
    expect(new Set(frames.map((f) => f.timestamp)).size).toBe(frames.length);
    const jpeg = Buffer.from(frames[0]!.image, 'base64');
    const meta = await sharp(jpeg).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 640, height: 480 });
    const [r, g, b] = await meanColour(jpeg);
    expect(r).toBeGreaterThan(230);
    expect(g + b).toBeLessThan(30);
  });
});
