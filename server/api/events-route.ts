import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { CanvasCommands } from '../control/command-types.js';
import type { EventBus, EaselEvent } from '../control/events.js';
import type { Clock } from '../stream/clock.js';
import type { ApiRequest } from './http.js';
import { redact } from './redact.js';
import { refuseAndClose } from '../transport/http-reply.js';

const KEEP_ALIVE_MS = 15_000;

/**
 * `GET /api/events`: server-sent events of canvas state changes, commands and job progress.
 * Each event is `event: <type>` with the JSON as data; the stream opens with a `hello` that
 * holds every canvas's state, so a console needs no second request to draw itself.
 */
export interface EventStreamLimits {
  /** Streams open at once overall; more get 503. */
  maxEventStreams: number;
  /** Streams open at once from one address; more get 429. */
  eventStreamsPerAddress: number;
}

export function registerEventsRoute(
  app: TemplatedApp,
  deps: {
    events: EventBus;
    commands: CanvasCommands;
    clock: Clock;
    isClosing: () => boolean;
    limits: EventStreamLimits;
    /** The API's guard (Host, display token); answers the problem itself and returns undefined when refused. */
    admit: (res: HttpResponse, req: HttpRequest) => ApiRequest | undefined;
  },
) {
  const clients = new Set<{ res: HttpResponse; stop: () => void }>();
  // Each stream holds a descriptor for as long as the client likes: held by the thousand they
  // starved the canvases of file reads, so they are capped like displays.
  const perAddress = new Map<string, number>();
  const refused = { eventStreams: 0, eventStreamsPerAddress: 0 };

  const write = (res: HttpResponse, text: string) => res.cork(() => res.write(text));
  // Readers without the operator token get no client addresses and no server paths.
  const frame = (event: EaselEvent | { type: 'hello'; canvases: unknown }, seesAll: boolean) =>
    `event: ${event.type}\ndata: ${JSON.stringify(seesAll ? event : redact(event))}\n\n`;

  // The bus hands every stream the same event object: encode (and redact) it once per event, not
  // once per open console.
  const encodings = new WeakMap<EaselEvent, { all?: string; redacted?: string }>();
  const encoded = (event: EaselEvent, seesAll: boolean) => {
    let e = encodings.get(event);
    if (!e) {
      e = {};
      encodings.set(event, e);
    }
    if (seesAll) {
      e.all ??= frame(event, true);
      return e.all;
    }
    e.redacted ??= frame(event, false);
    return e.redacted;
  };

  app.get('/api/events', (res, req) => {
    if (deps.isClosing()) {
      res.writeStatus('503 Service Unavailable').end();
      return;
    }
    const reader = deps.admit(res, req);
    if (!reader) return;
    const { seesAll } = reader;
    const { maxEventStreams, eventStreamsPerAddress } = deps.limits;
    if (clients.size >= maxEventStreams) {
      refused.eventStreams++;
      refuseAndClose(res, 503, {
        title: 'Limit reached',
        detail: `The server has ${clients.size} event streams open, its limit`,
        hint: 'Close consoles that are not in use, or raise limits.maxEventStreams',
        code: 'EASEL_ERR_LIMIT_REACHED',
      });
      return;
    }
    const address = Buffer.from(res.getRemoteAddressAsText()).toString();
    const fromAddress = perAddress.get(address) ?? 0;
    if (fromAddress >= eventStreamsPerAddress) {
      refused.eventStreamsPerAddress++;
      refuseAndClose(
        res,
        429,
        {
          title: 'Too many event streams',
          detail: `Address ${address} has ${fromAddress} event streams open, the most one address may hold`,
          hint: 'Close other console tabs on that machine, or raise limits.eventStreamsPerAddress for many consoles behind one address',
          code: 'EASEL_ERR_LIMIT_REACHED',
        },
        { 'retry-after': '10' },
      );
      return;
    }
    perAddress.set(address, fromAddress + 1);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
    };
    const client = { res, stop: () => undefined as unknown };
    res.onAborted(() => {
      client.stop();
      clients.delete(client);
    });
    res
      .writeStatus('200 OK')
      .writeHeader('content-type', 'text/event-stream; charset=utf-8')
      .writeHeader('cache-control', 'no-store')
      .writeHeader('x-accel-buffering', 'no');
    res.write(`retry: 2000\n\n${frame({ type: 'hello', canvases: deps.commands.list() }, seesAll)}`);
    const unsubscribe = deps.events.subscribe((event) => write(res, encoded(event, seesAll)));
    let timer: unknown;
    const keepAlive = () => {
      timer = deps.clock.setTimeout(() => {
        write(res, ': keep-alive\n\n');
        keepAlive();
      }, KEEP_ALIVE_MS);
    };
    keepAlive();
    client.stop = () => {
      unsubscribe();
      deps.clock.clearTimeout(timer);
      release();
    };
    clients.add(client);
  });

  return {
    get clients() {
      return clients.size;
    },
    /** Streams refused by a limit, since start. */
    refused,
    /** Ends every stream, so shutdown does not wait on open consoles. */
    closeAll() {
      for (const client of [...clients]) {
        client.stop();
        clients.delete(client);
        client.res.cork(() => client.res.end());
      }
    },
  };
}
