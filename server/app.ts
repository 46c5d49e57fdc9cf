import uWS, { type us_listen_socket } from 'uWebSockets.js';
import { createRegistry, type Registry } from './canvas/registry.js';
import type { EaselConfig } from './config.js';
import { EaselError } from './errors.js';
import { createInferenceClient, type InferenceClient } from './inference/client.js';
import { createMetrics, observedInference } from './metrics.js';
import { isLoopbackHost, makeToken } from './api/auth.js';
import { registerCanvasRoutes } from './api/canvas-routes.js';
import { registerEventsRoute } from './api/events-route.js';
import { createApi } from './api/http.js';
import { createRateLimiter } from './api/rate-limit.js';
import { createCommands } from './control/commands.js';
import { createEventBus, type EventBus } from './control/events.js';
import { createJobTracker } from './control/jobs.js';
import { createOscListener } from './control/osc-listener.js';
import { listenWithRetry } from './transport/listen.js';
import { registerPlaylistRoutes } from './api/playlist-routes.js';
import { registerAuthRoutes } from './api/auth-routes.js';
import { createPlaylistManager } from './playlist/playlist-manager.js';
import type { Logger } from './logger.js';
import { systemClock, type Clock } from './stream/clock.js';
import { createRenderer } from './stream/renderer.js';
import { registerDisplayRoute, type DisplayRoute } from './transport/display-route.js';
import { registerHealthRoutes } from './transport/health-routes.js';
import { guardApp, type RegisteredRoute } from './transport/guarded-app.js';
import { replyProblem } from './transport/http-reply.js';
import { DEFAULT_DIST_DIR, registerPageRoutes } from './transport/page-routes.js';

export interface EaselServerOptions {
  config: EaselConfig;
  logger: Logger;
  clock?: Clock;
}

export interface EaselServer {
  readonly registry: Registry;
  readonly displays: DisplayRoute;
  readonly inference: InferenceClient | undefined;
  readonly commands: ReturnType<typeof createCommands>;
  readonly events: EventBus;
  /** The operator token in force; `generatedToken` is set when Easel made it (print it once). */
  readonly operatorToken: string | undefined;
  readonly generatedToken: boolean;
  /** Every HTTP and WebSocket route, as registered (tests walk them with malformed input). */
  readonly routes: readonly RegisteredRoute[];
  /** Handler exceptions answered with 500 since start (each one is a bug). */
  readonly handlerErrors: number;
  /** The UDP port OSC listens on, once listening; undefined when OSC is off. */
  readonly oscPort: number | undefined;
  /** Starts the declared canvases and listens; resolves with the port (useful with port 0). */
  listen(): Promise<number>;
  /** Idempotent: stops taking displays, stops canvases, closes every display with 1001. */
  close(): Promise<void>;
}

/** Wires config → renderer → canvases → routes. Owns nothing it does not close again. */
export function createEaselServer(options: EaselServerOptions): EaselServer {
  const { config, logger } = options;
  const clock = options.clock ?? systemClock;
  const guard = guardApp(uWS.App(), logger);
  const app = guard.app;
  let closing = false;
  let listenSocket: us_listen_socket | undefined;
  let closed: Promise<void> | undefined;
  let osc: Awaited<ReturnType<typeof createOscListener>> | undefined;

  const metrics = createMetrics();
  const renderer = createRenderer({
    onRendered: metrics.observeRender,
    limitInputPixels: config.render.limitInputPixels,
    webp: config.render.webp,
    jpeg: config.render.jpeg,
    avif: config.render.avif,
    cacheBytes: config.render.cacheMegabytes * 1024 * 1024,
  });
  const inference: InferenceClient | undefined =
    config.inference.endpoints.length > 0
      ? observedInference(
          createInferenceClient({ endpoints: config.inference.endpoints, logger: logger.child({ component: 'inference' }), generateDeadlineMs: config.inference.deadlineMs, clock }),
          metrics,
        )
      : undefined;
  const events = createEventBus();
  const jobs = createJobTracker(events);
  const registry = createRegistry({
    config,
    onSlotLate: metrics.observePacing,
    renderer,
    clock,
    logger,
    inference,
    onCanvas: (canvas) =>
      canvas.onEvent((event) => {
        if (event.type === 'frame') {
          if (event.frame.source === 'inference') jobs.frameShown(canvas.slug, event.frame.prompt);
          return;
        }
        if (event.type === 'state') events.emit({ type: 'canvas', slug: canvas.slug, state: event.state });
        else events.emit({ type: 'canvas', slug: canvas.slug, source: event.kind });
      }),
  });
  const isClosing = () => closing;

  // DESIGN.md: no token and reachable from other machines → make one and print it once.
  const generatedToken = !config.operator.token && !isLoopbackHost(config.host);
  const operatorToken = config.operator.token || (generatedToken ? makeToken() : undefined);
  const api = createApi(app, {
    logger,
    token: () => operatorToken,
    limiter: createRateLimiter({ ...config.operator.rateLimit, clock }),
    isClosing,
  });
  const commands = createCommands({ registry, config, events, jobs, inference, logger });
  // A refused request (bad size, steps) leaves the source failed for good: its job fails with the reason.
  let jobWatch: unknown = null;
  const watchJobs = () => {
    jobWatch = clock.setTimeout(() => {
      for (const canvas of registry.list()) {
        const status = jobs.current(canvas.slug) && registry.prompter(canvas.slug)?.status();
        if (status && status.state === 'failed') jobs.failRunning(canvas.slug, status.reason ?? 'The inference service refused the request');
      }
      watchJobs();
    }, 1000);
  };
  watchJobs();
  const playlists = createPlaylistManager({
    dir: config.playlists.dir,
    commands,
    clock,
    logger,
    // Frames steps count the frames a canvas shows; a playlist may name a canvas not yet created.
    onFrame: (slug, listener) =>
      registry.getOrCreate(slug)?.onEvent((event) => {
        if (event.type === 'frame') listener();
      }) ?? (() => undefined),
  });
  playlists.onEvent((event) => {
    const { type, ...detail } = event;
    const name = 'playlist' in event ? event.playlist : 'change' in event ? event.change.name : '';
    const slug = 'slug' in event ? event.slug : undefined;
    events.emit({ type: 'playlist', name, event: type === 'file' ? `file-${(event as { change: { type: string } }).change.type}` : type, ...(slug ? { slug } : {}), detail });
  });
  commands.setPlaylists({
    start: async (slug, name, origin) => {
      await playlists.start(slug, name, origin);
    },
    stop: (slug) => playlists.stop(slug),
  });
  registerCanvasRoutes({
    api,
    commands,
    registry,
    maxBodyBytes: config.operator.maxBodyBytes,
    extras: (slug) => ({ job: jobs.current(slug) ?? null, playlist: playlists.status(slug) }),
  });
  registerPlaylistRoutes(api, playlists);
  registerAuthRoutes(api);
  const sse = registerEventsRoute(app, { events, commands, clock, isClosing });

  registerHealthRoutes(app, { registry, isClosing, startedAt: Date.now(), inference });
  registerPageRoutes(app, { distDir: DEFAULT_DIST_DIR, logger });
  const displays = registerDisplayRoute(app, {
    registry,
    displayToken: config.displays.token || undefined,
    limits: config.limits,
    logger,
    clock,
    isClosing,
    maxBackpressureBytes: config.displays.maxBackpressureBytes,
    idleTimeoutSeconds: config.displays.idleTimeoutSeconds,
  });
  metrics.bind({ canvases: registry, renderer, displays, inference });
  app.get('/metrics', (res) => {
    res.onAborted(() => (res.aborted = true));
    void metrics.text().then(({ body, contentType }) => {
      if (!res.aborted) res.cork(() => res.writeHeader('content-type', contentType).end(body));
    });
  });
  app.any('/*', (res, req) => {
    replyProblem(res, 404, { title: 'Not found', detail: `Nothing is served at "${req.getUrl()}"`, hint: 'Displays connect to /ws/<canvas-slug>; health is at /healthz and /readyz' });
  });

  return {
    registry,
    displays,
    inference,
    commands,
    events,
    operatorToken,
    generatedToken,
    routes: guard.routes,
    get handlerErrors() {
      return guard.caught;
    },
    get oscPort() {
      return osc?.port;
    },

    async listen() {
      const socket = await listenWithRetry(app, config.host, config.port, logger, clock);
      listenSocket = socket;
      registry.startDeclared();
      await playlists.ready;
      if (config.osc.enabled) {
        osc = await createOscListener({ host: config.osc.host, port: config.osc.port, commands, logger: logger.child({ component: 'osc' }) });
        logger.info({ host: config.osc.host, port: osc.port }, 'Listening for OSC commands');
      }
      return uWS.us_socket_local_port(socket);
    },

    close() {
      closed ??= (async () => {
        closing = true;
        clock.clearTimeout(jobWatch);
        await osc?.close();
        await playlists.close();
        if (listenSocket) uWS.us_listen_socket_close(listenSocket);
        listenSocket = undefined;
        const stopping = registry.closeAll();
        displays.closeAll();
        sse.closeAll();
        await stopping;
        await inference?.close();
      })();
      return closed;
    },
  };
}
