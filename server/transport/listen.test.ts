import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { isEaselError } from '../errors.js';
import { listenWithRetry } from './listen.js';

const app = {} as TemplatedApp;
const SOCKET = { listening: true } as unknown as us_listen_socket;
const settle = async () => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

/** Binds fail `failures` times, then succeed; the probe says what Node finds on the port. */
function sockets(failures: number, found: 'free' | 'in-use' | 'unavailable') {
  const tries = { listen: 0, probe: 0 };
  return {
    tries,
    tryListen: async () => (++tries.listen > failures ? SOCKET : false),
    probePort: async () => {
      tries.probe++;
      return found;
    },
  };
}

describe('listenWithRetry', () => {
  it('waits for a port only closing connections of a previous run hold, with one line each way', async () => {
    const clock = new FakeClock();
    const { logger, lines } = captureLogs();
    const fake = sockets(3, 'free');
    let socket: us_listen_socket | undefined;
    void listenWithRetry(app, '0.0.0.0', 8000, logger, clock, fake).then((s) => (socket = s));
    for (let i = 0; i < 3; i++) {
      await settle();
      clock.advance(1000);
    }
    await settle();
    expect(socket).toBe(SOCKET);
    expect(fake.tries).toEqual({ listen: 4, probe: 3 });
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'Port 8000 is still held by connections of a previous run; retrying until it is free (up to 90 s)'],
      [30, 'Port is free again: listening'],
    ]);
  });

  it('fails at once, naming the cause, when another program listens or the address is not this machine', async () => {
    for (const [found, reason] of [
      ['in-use', 'another program is already listening on that port'],
      ['unavailable', 'the address is not available on this machine'],
    ] as const) {
      const { logger, lines } = captureLogs();
      const fake = sockets(Infinity, found);
      const err = await listenWithRetry(app, '127.0.0.1', 8000, logger, new FakeClock(), fake).catch((e: unknown) => e);
      expect(isEaselError(err, 'EASEL_ERR_LISTEN_FAILED')).toBe(true);
      expect((err as Error).message).toBe(`Cannot listen on 127.0.0.1:8000: ${reason}`);
      expect(fake.tries).toEqual({ listen: 1, probe: 1 });
      expect(lines).toEqual([]);
    }
  });

  it('gives up after 90 s of a port that stays held', async () => {
    const clock = new FakeClock();
    const { logger } = captureLogs();
    const fake = sockets(Infinity, 'free');
    let failed: unknown;
    void listenWithRetry(app, '0.0.0.0', 8000, logger, clock, fake).catch((e: unknown) => (failed = e));
    for (let i = 0; i < 95 && failed === undefined; i++) {
      await settle();
      clock.advance(1000);
    }
    await settle();
    expect((failed as Error).message).toBe('Cannot listen on 0.0.0.0:8000: the port is still held by connections of a previous run');
    expect(fake.tries.listen).toBeGreaterThanOrEqual(90);
    expect(fake.tries.listen).toBeLessThanOrEqual(93);
  });
});
