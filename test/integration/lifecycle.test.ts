import { Agent, get } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startMain } from '../support/main-process.js';
import { startTestServer, tempFolder } from '../support/server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function imageFolder() {
  const folder = tempFolder();
  cleanups.push(folder.remove);
  putImage(folder.dir, 'a.png', await solidPng('#ff0000'));
  putImage(folder.dir, 'b.png', await solidPng('#0000ff'));
  return folder.dir;
}

describe('the server process', () => {
  it('on SIGTERM closes displays with 1001 and exits 0 within 2 s, a kept-alive HTTP connection closed too', async () => {
    const main = startMain([], { EASEL_HOST: '127.0.0.1', EASEL_PORT: '0', EASEL_FOLDER: await imageFolder() });
    cleanups.push(() => main.child.kill('SIGKILL'));
    const port = await main.port;
    const displays = [new DisplayClient(`ws://127.0.0.1:${port}/ws/left-canva`), new DisplayClient(`ws://127.0.0.1:${port}/ws/adhoc`)];
    await Promise.all(displays.map((d) => d.opened));
    await vi.waitFor(() => expect(displays.every((d) => d.frames.length > 0)).toBe(true), { timeout: 5000 });
    // An HTTP client that keeps its connection open (a Prometheus scraper, a browser on the
    // console): it must not hold the process past its own shutdown.
    const agent = new Agent({ keepAlive: true });
    cleanups.push(() => agent.destroy());
    await new Promise<void>((resolve, reject) =>
      get(`http://127.0.0.1:${port}/healthz`, { agent }, (res) => res.resume().on('end', resolve)).on('error', reject),
    );
    expect(Object.values(agent.freeSockets).flat()).toHaveLength(1);

    const signalledAt = performance.now();
    main.child.kill('SIGTERM');
    const closes = await Promise.all(displays.map((d) => d.closed));
    const exit = await main.exited;
    expect(performance.now() - signalledAt).toBeLessThan(2000);
    expect(closes.map((c) => c.code)).toEqual([1001, 1001]);
    expect(exit).toEqual({ code: 0, signal: null });
    expect(main.stdout.some((l) => l.includes('"Stopped"'))).toBe(true);
    // It ended by itself, not by the grace timer.
    expect(main.stdout.filter((l) => l.includes('Shutdown took too long'))).toEqual([]);
  });

  it('says in one line that the port is in use and exits 1', async () => {
    const taken = await startTestServer({ EASEL_FOLDER: await imageFolder() });
    cleanups.push(() => taken.close());
    const main = startMain(['--port', String(taken.port), '--host', '127.0.0.1'], {});
    const exit = await main.exited;
    expect(exit.code).toBe(1);
    const firstLine = main.stderr().split('\n')[0]!;
    expect(firstLine).toBe(`easel: Cannot listen on 127.0.0.1:${taken.port}: another program is already listening on that port`);
    expect(main.stderr()).toMatch(/--port/);
  });

  it('refuses a bad config value at start, naming the key, the value and what is allowed', async () => {
    const main = startMain([], { EASEL_FPS: '99' });
    const exit = await main.exited;
    expect(exit.code).toBe(1);
    expect(main.stderr()).toMatch(/canvasDefaults\.fps: must be a number from 0\.1 to 30: value was 99/);
  });
});
