import { afterEach, expect, it } from 'vitest';
import { startMain, type MainProcess } from '../support/main-process.js';

let main: MainProcess | undefined;
afterEach(async () => {
  main?.child.kill('SIGKILL');
  await main?.exited;
});

it('a promise that fails with nobody to handle it is logged, and the server goes on', { timeout: 60_000 }, async () => {
  // Planted in the real process from outside, as a bug in any async path would do it; set off
  // once the server listens (a timer could fire before start-up ends on a loaded box).
  const plant = `data:text/javascript,${encodeURIComponent('process.on("SIGUSR2", () => Promise.reject(new Error("planted rejection")))')}`;
  main = startMain(['--port', '0', '--host', '127.0.0.1'], { NODE_OPTIONS: `--import=${plant}`, EASEL_CANVASES: '[]' });
  const port = await main.port;
  main.child.kill('SIGUSR2');
  await expect.poll(() => main!.stdout.some((line) => line.includes('planted rejection')), { timeout: 20_000, interval: 200 }).toBe(true);
  const logged = main.stdout.map((line) => JSON.parse(line) as { level: number; msg: string; err?: { message?: string } });
  expect(logged.find((l) => l.err?.message === 'planted rejection')).toMatchObject({ level: 50, msg: expect.stringContaining('goes on') });
  expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
  expect(main.child.exitCode).toBeNull();
});
