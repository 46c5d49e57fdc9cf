/**
 * OSC out over UDP: every message goes to every target in `osc.targets`, fire and forget. A
 * target that is down, unplugged or misspelled costs one datagram per message and a count:
 * UDP has no connection to wait on, send errors are counted and never thrown, and host names
 * are looked up once (again every `resolveEveryMs`, so a DHCP move is followed), never per send.
 */
import { createSocket } from 'node:dgram';
import { lookup } from 'node:dns/promises';
import { isIPv4 } from 'node:net';
import { encode } from 'node-osc';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { parseOscTarget } from './output-config.js';
import type { OscOutMessage } from './osc-messages.js';

export interface OscOutOptions {
  /** "host:port" entries, validated by the config. */
  targets: readonly string[];
  clock: Clock;
  logger: Logger;
  /** How often host names are looked up again (default 60 s); an unresolved one is retried this often too. */
  resolveEveryMs?: number;
  /** Name → IPv4 address; tests pass their own. Default: the system resolver. */
  resolve?: (host: string) => Promise<string>;
}

/** How each message to each target ended, for `easel_osc_out_messages_total{result}`. */
export interface OscOutStats {
  sent: number;
  /** The socket refused the send (no route, message too big). */
  failed: number;
  /** The target's host name did not resolve (yet): nothing was sent. */
  unresolved: number;
}

export interface OscOut {
  send(messages: readonly OscOutMessage[]): void;
  readonly stats: Readonly<OscOutStats>;
  close(): Promise<void>;
}

interface Target {
  text: string;
  host: string;
  port: number;
  address: string | undefined;
}

const defaultResolve = async (host: string) => (await lookup(host, { family: 4 })).address;

export function createOscOut(options: OscOutOptions): OscOut {
  const { clock } = options;
  const log = options.logger.child({ component: 'osc-out' });
  const resolveEveryMs = options.resolveEveryMs ?? 60_000;
  const resolve = options.resolve ?? defaultResolve;
  const limiter = createLogLimiter({ now: () => clock.now() });
  const stats: OscOutStats = { sent: 0, failed: 0, unresolved: 0 };
  const targets: Target[] = options.targets.map((text) => {
    const { host, port } = parseOscTarget(text)!;
    return { text, host, port, address: isIPv4(host) ? host : undefined };
  });
  const socket = createSocket('udp4');
  // Without a listener an 'error' event would end the process; a send's own errors come to its callback.
  socket.on('error', (err) => log.warn({ err }, 'OSC out socket error'));
  socket.unref();
  let closed = false;
  let timer: unknown;

  async function lookUpNames() {
    await Promise.all(
      targets
        .filter((t) => !isIPv4(t.host))
        .map(async (t) => {
          try {
            const address = await resolve(t.host);
            if (address !== t.address) log.info({ target: t.text, address }, `OSC target ${t.text} is at ${address}`);
            t.address = address;
          } catch (err) {
            // Keep the last good address: a resolver that hiccups must not silence a working target.
            const suppressed = limiter.take(`resolve:${t.text}`);
            if (suppressed !== undefined)
              log.warn({ target: t.text, err: (err as Error).message, suppressed }, `OSC target ${t.host} does not resolve`);
          }
        }),
    );
    if (!closed) timer = clock.setTimeout(() => void lookUpNames(), resolveEveryMs);
  }
  if (targets.some((t) => !isIPv4(t.host))) void lookUpNames();

  return {
    stats,
    send(messages) {
      if (closed || targets.length === 0) return;
      for (const message of messages) {
        let bytes: Buffer;
        try {
          bytes = encode({ oscType: 'message', address: message.address, args: message.args });
        } catch (err) {
          stats.failed += targets.length;
          log.error({ err, address: message.address }, 'Could not encode an OSC message');
          continue;
        }
        for (const target of targets) {
          if (target.address === undefined) {
            stats.unresolved++;
            continue;
          }
          try {
            socket.send(bytes, target.port, target.address, (err) => {
              if (!err) {
                stats.sent++;
                return;
              }
              stats.failed++;
              const suppressed = limiter.take(`send:${target.text}`);
              if (suppressed !== undefined) log.warn({ target: target.text, err: err.message, suppressed }, 'OSC send failed');
            });
          } catch (err) {
            stats.failed++;
            const suppressed = limiter.take(`send:${target.text}`);
            if (suppressed !== undefined) log.warn({ target: target.text, err: (err as Error).message, suppressed }, 'OSC send failed');
          }
        }
      }
    },
    async close() {
      if (closed) return;
      closed = true;
      clock.clearTimeout(timer);
      await new Promise<void>((done) => socket.close(() => done()));
    },
  };
}
