import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createDelayProxy, type DelayProxy } from './delay-proxy.js';

let echo: net.Server | undefined;
let proxy: DelayProxy | undefined;

afterEach(async () => {
  await proxy?.close();
  await new Promise((r) => (echo ? echo.close(r) : r(undefined)));
  echo = proxy = undefined;
});

async function startEcho(): Promise<number> {
  echo = net.createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo!.listen(0, '127.0.0.1', r));
  return (echo.address() as net.AddressInfo).port;
}

/** Sends `count` numbered lines one by one and resolves with what comes back and when. */
async function roundTrips(port: number, count: number): Promise<{ text: string; ms: number }> {
  const socket = net.connect(port, '127.0.0.1');
  await new Promise((r) => socket.once('connect', r));
  const t0 = performance.now();
  let text = '';
  const expected = Array.from({ length: count }, (_, i) => `${i}\n`).join('');
  const done = new Promise<void>((resolve) =>
    socket.on('data', (d) => {
      text += d.toString();
      if (text.length >= expected.length) resolve();
    }),
  );
  for (let i = 0; i < count; i++) socket.write(`${i}\n`);
  await done;
  socket.destroy();
  return { text, ms: performance.now() - t0 };
}

describe('the delay proxy', () => {
  it('delays every chunk both ways and keeps the bytes in order, even when later chunks draw shorter delays', async () => {
    const port = await startEcho();
    // Falling delays: a proxy that timed each chunk on its own would deliver them reversed.
    let draw = 1;
    proxy = await createDelayProxy({
      target: { host: '127.0.0.1', port },
      minDelayMs: 20,
      maxDelayMs: 60,
      random: () => (draw = Math.max(0, draw - 0.1)),
    });
    const { text, ms } = await roundTrips(proxy.port, 20);
    expect(text).toBe(Array.from({ length: 20 }, (_, i) => `${i}\n`).join(''));
    // There and back, each at least the minimum delay.
    expect(ms).toBeGreaterThanOrEqual(40);
    expect(proxy.chunks).toBeGreaterThanOrEqual(2);
  });

  it('refuses a delay range that makes no sense', async () => {
    await expect(createDelayProxy({ target: { host: '127.0.0.1', port: 1 }, minDelayMs: 50, maxDelayMs: 10 })).rejects.toThrow(
      /minDelayMs <= maxDelayMs/,
    );
  });
});
