import net from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startMain } from '../support/main-process.js';
import { startTestServer, tempFolder } from '../support/server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A port nobody listens on now. Not port 0 for the first server: uWS sets SO_REUSEPORT only on a fixed port. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

describe('two servers on one port', () => {
  it('the second says in one line that the port is taken and exits 1 at once; the first keeps serving', async () => {
    const folder = tempFolder();
    cleanups.push(folder.remove);
    putImage(folder.dir, 'a.png', await solidPng('#ff0000'));
    putImage(folder.dir, 'b.png', await solidPng('#0000ff'));
    const port = await freePort();
    const first = await startTestServer({ EASEL_PORT: String(port), EASEL_FOLDER: folder.dir, EASEL_FPS: '10' });
    cleanups.push(() => first.close());
    const display = new DisplayClient(first.ws('wall'));
    cleanups.push(() => display.close());
    await display.opened;

    const second = startMain(['--port', String(port), '--host', '127.0.0.1'], {});
    cleanups.push(() => second.child.kill('SIGKILL'));
    const exit = await second.exited;
    expect(exit.code).toBe(1);
    expect(second.stderr().split('\n')[0]).toBe(
      `easel: Cannot listen on 127.0.0.1:${port}: another program is already listening on that port`,
    );
    // Failed fast: no wait for the port, as there would be for a previous run's closing connections.
    expect(second.stdout.join('\n')).not.toMatch(/retrying/);

    // Every new connection still reaches the first server, and its display still gets frames.
    const statuses = await Promise.all(Array.from({ length: 20 }, () => fetch(first.http('/healthz')).then((r) => r.status)));
    expect(statuses).toEqual(Array(20).fill(200));
    const framesBefore = display.frames.length;
    await vi.waitFor(() => expect(display.frames.length).toBeGreaterThan(framesBefore + 2), { timeout: 5000 });
    expect(first.server.displays.sockets.size).toBe(1);
  });
});
