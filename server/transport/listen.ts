import net from 'node:net';
import uWS, { type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
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

/** uWS.js takes listen(host, port, options, cb) although its typings only list options without a host. */
type ListenWithOptions = (host: string, port: number, options: number, cb: (socket: us_listen_socket | false) => void) => unknown;
/** Exported by uWS.js at run time, but missing from its typings (only as the ListenOptions type). */
const LISTEN_EXCLUSIVE_PORT = (uWS as unknown as { LIBUS_LISTEN_EXCLUSIVE_PORT?: number }).LIBUS_LISTEN_EXCLUSIVE_PORT ?? 1;

/**
 * Exclusive: uWS otherwise sets SO_REUSEPORT, and a second server on the same port would start
 * and silently take half of the connections.
 */
const tryListen = (app: TemplatedApp, host: string, port: number) =>
  new Promise<us_listen_socket | false>((resolve) =>
    (app.listen as unknown as ListenWithOptions).call(app, host, port, LISTEN_EXCLUSIVE_PORT, (socket) => resolve(socket)),
  );

const reasons = {
  'in-use': 'another program is already listening on that port',
  unavailable: 'the address is not available on this machine',
  free: 'the port is still held by connections of a previous run',
} as const;

/**
 * Listens, telling two failures apart: another program serving the port (one clear error) and
 * the port still held by the closing connections of Easel's previous run after a restart
 * (seen as TIME_WAIT where SO_REUSEADDR is missing; on Linux uWS sets it), which frees itself within a minute or
 * so: then it waits and tries again, so `systemctl restart` just works.
 */
export async function listenWithRetry(
  app: TemplatedApp,
  host: string,
  port: number,
  log: Logger,
  clock: Clock,
  /** Tests: the bind attempt and the probe, in place of the real ones. */
  sockets: { tryListen: typeof tryListen; probePort: typeof probePort } = { tryListen, probePort },
): Promise<us_listen_socket> {
  const started = clock.now();
  let told = false;
  for (;;) {
    const socket = await sockets.tryListen(app, host, port);
    if (socket) {
      if (told) log.info({ port }, 'Port is free again: listening');
      return socket;
    }
    // A live listener fails fast: only a port that Node could take is worth waiting for.
    const found = port === 0 ? 'unavailable' : await sockets.probePort(host, port);
    if (found !== 'free' || clock.now() - started > LINGER_RETRY_MS) {
      throw new EaselError('EASEL_ERR_LISTEN_FAILED', `Cannot listen on ${host}:${port}: ${reasons[found]}`, {
        hint: `Stop the other program on port ${port} (see: ss -ltnp 'sport = :${port}'), or start Easel with --port <another port>`,
        details: { host, port },
      });
    }
    if (!told) {
      told = true;
      log.warn(
        { port },
        `Port ${port} is still held by connections of a previous run; retrying until it is free (up to ${LINGER_RETRY_MS / 1000} s)`,
      );
    }
    await new Promise((r) => clock.setTimeout(() => r(undefined), 1000));
  }
}
