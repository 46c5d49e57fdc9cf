import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { CanvasCommands } from '../control/command-types.js';
import type { EventBus, EaselEvent } from '../control/events.js';
import type { Clock } from '../stream/clock.js';

const KEEP_ALIVE_MS = 15_000;

/**
 * `GET /api/events`: server-sent events of canvas state changes, commands and job progress.
 * Each event is `event: <type>` with the JSON as data; the stream opens with a `hello` that
 * holds every canvas's state, so a console needs no second request to draw itself.
 */
export function registerEventsRoute(app: TemplatedApp, deps: { events: EventBus; commands: CanvasCommands; clock: Clock; isClosing: () => boolean }) {
  const clients = new Set<{ res: HttpResponse; stop: () => void }>();

  const write = (res: HttpResponse, text: string) => res.cork(() => res.write(text));
  const frame = (event: EaselEvent | { type: 'hello'; canvases: unknown }) => `event: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;

  app.get('/api/events', (res) => {
    if (deps.isClosing()) {
      res.writeStatus('503 Service Unavailable').end();
      return;
    }
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
    res.write(`retry: 2000\n\n${frame({ type: 'hello', canvases: deps.commands.list() })}`);
    const unsubscribe = deps.events.subscribe((event) => write(res, frame(event)));
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
    };
    clients.add(client);
  });

  return {
    get clients() {
      return clients.size;
    },
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
