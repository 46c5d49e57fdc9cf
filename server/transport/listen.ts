import net from 'node:net';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { EaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';

/** How long to wait for a port still held by connections of a previous run. */
const LINGER_RETRY_MS = 90_000;

/**
 * What Node (which sets SO_REUSEADDR) finds on host:port: 'free' while uWS cannot bind means
 * only closing connections of a previous run hold it.
 */
function probePort(host: string, port: number): Promise<'free' | 'in-use' | 'unavailable'> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? 'in-use' : 'unavailable'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve('free')));
  });
}

const tryListen = (app: TemplatedApp, host: string, port: number) =>
  new Promise<us_listen_socket | false>((resolve) => app.listen(host, port, (socket) => resolve(socket)));

/**
 * Listens, telling two failures apart: another program serving the port (one clear error) and
 * the port still held by the closing connections of Easel's previous run after a restart
 * (TIME_WAIT; this uWS build does not set SO_REUSEADDR), which frees itself within a minute or
 * so: then it waits and tries again, so `systemctl restart` just works.
 */
export async function listenWithRetry(app: TemplatedApp, host: string, port: number, log: Logger, clock: Clock): Promise<us_listen_socket> {
  const started = clock.now();
  let told = false;
  for (;;) {
    const socket = await tryListen(app, host, port);
    if (socket) {
      if (told) log.info({ port }, 'Port is free again: listening');
      return socket;
    }
    const lingering = port !== 0 && (await probePort(host, port)) === 'free';
    if (!lingering || clock.now() - started > LINGER_RETRY_MS) {
      throw new EaselError('EASEL_ERR_LISTEN_FAILED', `Cannot listen on ${host}:${port}: the port is in use or the address is not available here`, {
        hint: `Stop the other program on port ${port} (see: ss -ltnp 'sport = :${port}'), or start Easel with --port <another port>`,
        details: { host, port },
      });
    }
    if (!told) {
      told = true;
      log.warn({ port }, `Port ${port} is still held by connections of a previous run; retrying until it is free (up to ${LINGER_RETRY_MS / 1000} s)`);
    }
    await new Promise((r) => clock.setTimeout(() => r(undefined), 1000));
  }
}
