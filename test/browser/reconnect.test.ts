import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BLUE, isColour, launchChromium, openPage, pixelAt, RED, stats, type WatchedPage } from './browser.js';
import { startDisplayServer, type DisplayServer } from './fixtures.js';

let browser: Browser;
let watched: WatchedPage | undefined;
const servers: DisplayServer[] = [];

/**
 * The server's address as the display knows it: a plain TCP forwarder to whichever server runs
 * now. A restarted Easel cannot listen on its old port at once (uWS binds without SO_REUSEADDR,
 * and the sockets it closed sit in TIME_WAIT for 60 s), so the new one takes a fresh port and
 * the forwarder keeps the address the page uses. A connection made while no server runs is
 * refused, as it would be by the real port.
 */
function createAddress(): { listen(): Promise<number>; pointAt(port: number): void; close(): Promise<void> } {
  let target = 0;
  const open = new Set<Socket>();
  const server: Server = createServer((client) => {
    open.add(client);
    const upstream = connect(target, '127.0.0.1');
    open.add(upstream);
    client.pipe(upstream).on('error', () => undefined);
    upstream.pipe(client).on('error', () => undefined);
    const done = () => {
      client.destroy();
      upstream.destroy();
      open.delete(client);
      open.delete(upstream);
    };
    for (const s of [client, upstream]) s.on('error', done).on('close', done);
  });
  return {
    listen: () => new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port))),
    pointAt(port) {
      target = port;
    },
    close: () => {
      for (const s of open) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
const address = createAddress();

beforeAll(async () => {
  browser = await launchChromium();
});

afterAll(async () => {
  await watched?.close();
  await browser?.close();
  await address.close();
  await Promise.allSettled(servers.map((s) => s.close()));
});

describe('an unattended display', () => {
  it('keeps the last frame through a server restart, reconnects by itself and shows the new frames', async () => {
    // Red before the restart, blue after: the screen says which server it is showing.
    const first = await startDisplayServer([
      {
        slug: 'lobby',
        fps: 8,
        images: [
          { name: 'a.png', colour: '#ff0000' },
          { name: 'b.png', colour: '#fa0000' },
        ],
      },
    ]);
    servers.push(first);
    const port = await address.listen();
    address.pointAt(first.port);
    watched = await openPage(browser, 800, 600);
    const { page } = watched;
    await page.goto(`http://127.0.0.1:${port}/c/lobby`);
    await expect.poll(() => pixelAt(page, 400, 300)).toSatisfy((p) => isColour(p, RED));

    await first.close();
    await expect.poll(async () => (await stats(page)).state).toMatch(/^(waiting|connecting)$/);
    // Meanwhile the last frame stays on screen, and the time in the corner with it.
    expect(isColour(await pixelAt(page, 400, 300), RED)).toBe(true);
    const before = await stats(page);
    expect(before.lastFrame).not.toBeNull();

    // Down for a moment: the display keeps trying (and is refused) meanwhile.
    await expect.poll(async () => (await stats(page)).disconnects, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    expect(isColour(await pixelAt(page, 400, 300), RED)).toBe(true);

    const second = await startDisplayServer([
      {
        slug: 'lobby',
        fps: 8,
        images: [
          { name: 'a.png', colour: '#0000ff' },
          { name: 'b.png', colour: '#0000fa' },
        ],
      },
    ]);
    servers.push(second);
    address.pointAt(second.port);
    // Backoff is capped at 10 s; after a short outage the next try comes within a few seconds.
    await expect.poll(() => pixelAt(page, 400, 300), { timeout: 15_000 }).toSatisfy((p) => isColour(p, BLUE));
    const after = await stats(page);
    expect(after.state).toBe('open');
    expect(after.connects).toBe(2);
    expect(after.framesShown).toBeGreaterThan(before.framesShown);
    expect(after.decodeErrors).toBe(0);
    // The browser itself reports the refused connections while the server was away; nothing else.
    expect(watched.problems.filter((p) => !/WebSocket connection to .* failed/.test(p))).toEqual([]);
  });
});
