/**
 * OSC over UDP (node-osc): lets TouchDesigner, Max/MSP, QLab or a phone controller drive the
 * canvases with the same commands the HTTP API uses. Off unless `osc.enabled` is set.
 *
 * A sender on a show network is often misconfigured (wrong address, wrong port, a fader sending
 * 60 messages a second), so nothing it sends can crash or flood the log: a message that is not
 * understood, or a command that fails, is counted (by result, in /metrics), logged at most once
 * a minute per kind of problem — not per address, as junk to many addresses is still one flood —
 * and dropped. Bundles are unpacked and their timetags ignored: every message runs on arrival.
 */
import { once } from 'node:events';
import type { RemoteInfo } from 'node:dgram';
import { Server } from 'node-osc';
import { EaselError, isEaselError } from '../errors.js';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { CanvasCommands, CommandOrigin } from './command-types.js';
import { routeOscMessage, type OscAction } from './osc-routes.js';

export interface OscListenerOptions {
  /** IPv4 address to bind ('0.0.0.0': every interface). */
  host: string;
  /** UDP port; 0 picks a free one (read it back from `port`). */
  port: number;
  commands: CanvasCommands;
  logger: Logger;
  /** Longest prompt accepted, in characters (default: the shared prompt rule, as the HTTP API). */
  maxPromptLength?: number;
  /** The clock the log limiter reads; tests pass their own. */
  now?: () => number;
}

export interface OscStats {
  /** Messages received, counting each message inside a bundle. */
  messages: number;
  /** Commands issued (a button release issues none). */
  commands: number;
  /** Messages not understood (undecodable, unknown address, bad slug, wrong arguments). */
  ignored: number;
  /** Commands that threw or rejected. */
  failed: number;
}

/** How each message ended, for `easel_osc_messages_total{result}`. */
export type OscResult = 'ok' | 'malformed' | 'unknown_canvas' | 'refused';

export interface OscListener {
  /** The UDP port actually bound. */
  readonly port: number;
  /** Live counters, for /metrics and tests. */
  readonly stats: Readonly<OscStats>;
  /** Messages by how they ended (a command counts once it settles). */
  readonly results: Readonly<Record<OscResult, number>>;
  /** Idempotent: stops receiving, then waits for commands in flight to settle. */
  close(): Promise<void>;
}

type Decoded = unknown[] | { oscType: 'bundle'; elements: Decoded[] };

/**
 * Binds a UDP socket and turns OSC messages into canvas commands.
 *
 * @example
 * const osc = await createOscListener({ host: '0.0.0.0', port: 9000, commands, logger });
 * // oscsend localhost 9000 /easel/left-canva/prompt s "a red boat"
 * await osc.close();
 */
export async function createOscListener(options: OscListenerOptions): Promise<OscListener> {
  const { host, commands } = options;
  const log = options.logger.child({ component: 'osc' });
  const now = options.now ?? Date.now;
  const { maxPromptLength } = options;
  const stats: OscStats = { messages: 0, commands: 0, ignored: 0, failed: 0 };
  const results: Record<OscResult, number> = { ok: 0, malformed: 0, unknown_canvas: 0, refused: 0 };
  const inFlight = new Set<Promise<void>>();
  const limiter = createLogLimiter({ now });
  let closing = false;
  let closed: Promise<void> | undefined;

  function ignore(kind: 'osc-undecodable' | 'osc-not-understood', who: string, reason: string) {
    stats.ignored++;
    results.malformed++;
    const suppressed = limiter.take(kind);
    if (suppressed !== undefined) log.warn({ from: who, suppressed }, `Ignoring an OSC message: ${reason}`);
  }

  function run(action: OscAction, origin: CommandOrigin): Promise<unknown> | unknown {
    switch (action.kind) {
      case 'prompt':
        return commands.setPrompt(action.slug, { prompt: action.prompt }, origin);
      case 'next':
        return commands.next(action.slug, origin);
      case 'pause':
        return commands.pause(action.slug, origin);
      case 'resume':
        return commands.resume(action.slug, origin);
      case 'playlist':
        return commands.startPlaylist(action.slug, action.name, origin);
      case 'playlist-stop':
        return commands.stopPlaylist(action.slug, origin);
    }
  }

  function handleMessage(message: unknown[], who: string) {
    stats.messages++;
    const [address, ...args] = message;
    if (typeof address !== 'string') return ignore('osc-not-understood', who, 'it has no address');
    const route = routeOscMessage(address, args, { maxPromptLength });
    if (!route.ok) return ignore('osc-not-understood', who, route.reason);
    if (route.action === null) {
      results.ok++;
      return;
    }
    if (closing) return;
    const action = route.action;
    stats.commands++;
    const origin: CommandOrigin = { via: 'osc', who };
    // Sync commands (pause, next...) may throw at once; async ones reject later. Both end here.
    const job = Promise.resolve()
      .then(() => run(action, origin))
      .then(
        () => {
          results.ok++;
          log.debug({ from: who, address }, 'OSC command done');
        },
        (err: unknown) => {
          stats.failed++;
          // Commands act only on canvases that exist: a stranger's slug is the common failure.
          const unknownCanvas = isEaselError(err, 'EASEL_ERR_NOT_FOUND') && /canvas/i.test(err.message);
          results[unknownCanvas ? 'unknown_canvas' : 'refused']++;
          const suppressed = limiter.take(`osc-failed:${isEaselError(err) ? err.code : 'unknown'}`);
          if (suppressed === undefined) return;
          if (isEaselError(err))
            log.warn({ from: who, address, code: err.code, hint: err.hint, suppressed }, `OSC command failed: ${err.message}`);
          else log.error({ err, from: who, address, suppressed }, 'OSC command failed');
        },
      )
      .finally(() => inFlight.delete(job));
    inFlight.add(job);
  }

  function handle(decoded: Decoded, who: string) {
    if (Array.isArray(decoded)) return handleMessage(decoded, who);
    for (const element of decoded.elements) handle(element, who);
  }

  const server = new Server(options.port, host);
  try {
    // once() rejects when 'error' comes first: a bind failure (EADDRINUSE, EACCES, EINVAL).
    await once(server, 'listening');
  } catch (err) {
    await server.close()?.catch(() => undefined);
    const code = (err as NodeJS.ErrnoException).code ?? String(err);
    throw new EaselError('EASEL_ERR_OSC_LISTEN_FAILED', `Cannot listen for OSC on UDP ${host}:${options.port}: ${code}`, {
      hint: `Another program may hold UDP port ${options.port} (ss -lunp 'sport = :${options.port}'): stop it or set osc.port. osc.host must be an IPv4 address of this machine`,
      cause: err,
      details: { host, port: options.port },
    });
  }

  // node-osc also emits every message under its address as the event name, so a message
  // addressed "message", "bundle" or "error" arrives twice; the guards below drop the echo.
  const who = (rinfo: RemoteInfo) => `${rinfo.address}:${rinfo.port}`;
  let lastMessage: unknown;
  server.on('message', (message: unknown[], rinfo: RemoteInfo) => {
    if (message === lastMessage) return;
    lastMessage = message;
    handleMessage(message, who(rinfo));
  });
  server.on('bundle', (bundle: Decoded, rinfo: RemoteInfo) => {
    if (!Array.isArray(bundle)) handle(bundle, who(rinfo));
  });
  server.on('error', (err: unknown, rinfo?: RemoteInfo) => {
    if (!(err instanceof Error)) return;
    if (rinfo) return ignore('osc-undecodable', who(rinfo), `it does not decode as OSC (${err.message})`);
    log.error({ err }, 'OSC socket error');
  });

  const port = server.port;
  log.info({ host, port }, `Listening for OSC on UDP ${host}:${port}`);

  return {
    port,
    stats,
    results,
    close() {
      closed ??= (async () => {
        closing = true;
        await server.close()?.catch((err: unknown) => log.warn({ err }, 'Could not close the OSC socket'));
        await Promise.allSettled([...inFlight]);
      })();
      return closed;
    },
  };
}
