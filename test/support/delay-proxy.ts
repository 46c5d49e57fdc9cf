import net from 'node:net';

export interface DelayProxyOptions {
  /** Where every accepted connection is forwarded. */
  target: { host: string; port: number };
  /** Each chunk is held back by a delay drawn between these, in each direction. */
  minDelayMs: number;
  maxDelayMs: number;
  /** A number in [0, 1); tests pass their own to draw known delays. */
  random?: () => number;
}

export interface DelayProxy {
  /** The ephemeral loopback port to connect to instead of the target's. */
  port: number;
  /** Chunks forwarded so far, both directions together. */
  readonly chunks: number;
  close(): Promise<void>;
}

/**
 * A TCP proxy that behaves like a Wi-Fi link: every chunk waits a varying few tens of
 * milliseconds, yet bytes never overtake each other (a chunk waits at least until the one before
 * it has gone), as on a real TCP connection whose packets are delayed, not reordered.
 */
export async function createDelayProxy(options: DelayProxyOptions): Promise<DelayProxy> {
  const { minDelayMs, maxDelayMs } = options;
  if (!(minDelayMs >= 0 && maxDelayMs >= minDelayMs)) {
    throw new Error(`Expected 0 <= minDelayMs <= maxDelayMs, got ${minDelayMs} and ${maxDelayMs}`);
  }
  const random = options.random ?? Math.random;
  const sockets = new Set<net.Socket>();
  let chunks = 0;

  /** Forwards `from` to `to`, each chunk delayed, in order; an end or error passes on after the data. */
  const pipeDelayed = (from: net.Socket, to: net.Socket) => {
    let releaseAt = 0;
    const later = (fn: () => void) => {
      releaseAt = Math.max(releaseAt, performance.now() + minDelayMs + random() * (maxDelayMs - minDelayMs));
      setTimeout(fn, Math.max(0, releaseAt - performance.now()));
    };
    from.on('data', (chunk) => {
      later(() => {
        chunks++;
        if (!to.destroyed) to.write(chunk);
      });
    });
    from.on('end', () => later(() => to.end()));
    from.on('error', () => later(() => to.destroy()));
    from.on('close', () => later(() => to.destroy()));
  };

  const server = net.createServer((client) => {
    const upstream = net.connect(options.target.port, options.target.host);
    for (const s of [client, upstream]) {
      s.setNoDelay(true);
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    pipeDelayed(client, upstream);
    pipeDelayed(upstream, client);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('The delay proxy has no TCP port');

  return {
    port: address.port,
    get chunks() {
      return chunks;
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
