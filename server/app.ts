import path from 'node:path';
import uWS, { type us_listen_socket } from 'uWebSockets.js';
import { createRegistry, type Registry } from './canvas/registry.js';
import type { EaselConfig } from './config.js';
import { createInferenceClient, type InferenceClient } from './inference/client.js';
import { createMetrics, observedInference } from './metrics.js';
import { operatorTokenFor } from './api/auth.js';
import { registerCanvasRoutes } from './api/canvas-routes.js';
import { registerClusterRoute } from './api/cluster-route.js';
import type { Cluster } from './cluster/cluster.js';
import { connectClusterNode } from './cluster/cluster-node.js';
import { registerClockMetrics } from './cluster/clock-metrics.js';
import { createReferenceClock } from './cluster/reference-clock.js';
import { createSharedStateSink } from './cluster/shared-state.js';
import { createClusterControl } from './cluster/cluster-control.js';
import { registerEventsRoute } from './api/events-route.js';
import { createApi } from './api/http.js';
import { createAuthFailures } from './api/auth-failures.js';
import { createHostPolicy } from './api/host-policy.js';
import { createRateLimiter } from './api/rate-limit.js';
import { createCommands } from './control/commands.js';
import { withPlaylists, type Commands } from './control/playlist-commands.js';
import { connectEventFeed } from './control/event-feed.js';
import { createEventBus, type EventBus } from './control/events.js';
import { createJobTracker } from './control/jobs.js';
import { createOscListener } from './control/osc-listener.js';
import { createRuntimeState } from './control/runtime-state.js';
import {
  loadSavedState,
  restorableSources,
  restoreArchiveSources,
  restoreCanvases,
  restorePlaylists,
  startingSource,
  type RestoreDeps,
} from './control/state-restore.js';
import { listenWithRetry } from './transport/listen.js';
import { registerPlaylistRoutes } from './api/playlist-routes.js';
import { registerAuthRoutes } from './api/auth-routes.js';
import { createPlaylistManager } from './playlist/playlist-manager.js';
import type { Logger } from './logger.js';
import { systemClock, type Clock } from './stream/clock.js';
import { createRenderer } from './stream/renderer.js';
import { registerDisplayRoute, type DisplayRoute } from './transport/display-route.js';
import { createUwsFanOut } from './transport/uws-fan-out.js';
import { registerHealthRoutes } from './transport/health-routes.js';
import { registerMetricsRoute } from './transport/metrics-route.js';
import { registerMjpegRoute, type MjpegRoute } from './transport/mjpeg-route.js';
import { guardApp, type RegisteredRoute } from './transport/guarded-app.js';
import { createAdmission } from './transport/admission.js';
import { createFdGuard } from './transport/fd-guard.js';
import { replyProblem } from './transport/http-reply.js';
import { DEFAULT_DIST_DIR, registerPageRoutes } from './transport/page-routes.js';
import { connectOutputs } from './outputs/outputs.js';
import { connectArchive, type Archive } from './archive/archive.js';
import { replayArchive } from './archive/archive-selection.js';
import { registerArchiveApi } from './archive/archive-api.js';

export interface EaselServerOptions {
  config: EaselConfig;
  logger: Logger;
  clock?: Clock;
}

export interface EaselServer {
  readonly registry: Registry;
  readonly displays: DisplayRoute;
  /** `GET /c/<slug>.mjpeg` readers. */
  readonly mjpeg: MjpegRoute;
  readonly inference: InferenceClient | undefined;
  readonly commands: Commands;
  readonly events: EventBus;
  /** The archive of generated frames and uploads, and the proof-of-play log; undefined when archive.dir is "". */
  readonly archive: Archive | undefined;
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
  const ownClock = options.clock ?? systemClock;
  // Cluster mode: every time this node gives out is on the cluster's clock, Redis's (cluster/reference-clock.ts).
  const reference = config.cluster.redisUrl ? createReferenceClock({ local: ownClock }) : undefined;
  const clock = reference ?? ownClock;
  const admission = createAdmission({
    guard: createFdGuard({ headroom: config.limits.fdHeadroom, now: () => clock.now() }),
    logger,
    now: () => clock.now(),
  });
  const guard = guardApp(uWS.App(), logger, { admit: admission.admit });
  const app = guard.app;
  let closing = false;
  let listenSocket: us_listen_socket | undefined;
  let closed: Promise<void> | undefined;
  let osc: Awaited<ReturnType<typeof createOscListener>> | undefined;

  const metrics = createMetrics();
  const renderer = createRenderer({
    onRendered: metrics.observeRender,
    limitInputPixels: config.render.limitInputPixels,
    maxFileBytes: config.render.maxFileBytes,
    webp: config.render.webp,
    jpeg: config.render.jpeg,
    avif: config.render.avif,
    cacheBytes: config.render.cacheMegabytes * 1024 * 1024,
  });
  const inference: InferenceClient | undefined =
    config.inference.endpoints.length > 0
      ? observedInference(
          createInferenceClient({
            endpoints: config.inference.endpoints,
            logger: logger.child({ component: 'inference' }),
            generateDeadlineMs: config.inference.deadlineMs,
            clock,
          }),
          metrics,
        )
      : undefined;
  const events = createEventBus();
  // Set below in cluster mode; the registry asks it at each slot whether this node holds a declared canvas.
  let cluster: Cluster | undefined;
  // Archive steps and sources read the store opened below, once they run.
  const replay = replayArchive(config.archive.dir, () => archive?.store);
  const registry = createRegistry({
    archive: replay,
    config,
    onSlotLate: metrics.observePacing,
    onRemoved: metrics.forgetCanvas,
    renderer,
    clock,
    logger,
    inference,
    // Measured: uWS topics cost more CPU and a frame of memory per display here, for no less spread.
    fanOut: config.displays.fanOut === 'topics' ? createUwsFanOut(app) : undefined,
    mayPublish: config.cluster.redisUrl ? (slug) => cluster?.mayPublish(slug) === true : undefined,
    onPublished: config.cluster.redisUrl ? (slug, frame) => cluster?.relay.publish(slug, frame) : undefined,
    remoteSpecs: config.cluster.redisUrl ? (slug) => cluster?.relay.remoteSpecs(slug) ?? [] : undefined,
  });
  const jobs = createJobTracker({ events, canvases: registry, clock });
  const isClosing = () => closing;

  const { token: operatorToken, generated: generatedToken } = operatorTokenFor(config.operator.token, config.host);
  // One count of wrong tokens per address for the API and the display upgrade alike.
  const authFailures = createAuthFailures({ clock });
  const hosts = createHostPolicy({ allowedHosts: config.http.allowedHosts, bindHost: config.host });
  const api = createApi(app, {
    logger,
    token: () => operatorToken,
    displayToken: config.displays.token || undefined,
    openReads: config.operator.openReads,
    limiter: createRateLimiter({ ...config.operator.rateLimit, clock }),
    authFailures,
    hosts,
    isClosing,
  });
  // Runtime changes are kept in the state file (when one is set) and come back after a restart;
  // in cluster mode they are kept in Redis instead, each canvas by the node producing it.
  const sharedSink = config.cluster.redisUrl ? createSharedStateSink() : undefined;
  const runtime =
    config.state.file || sharedSink
      ? createRuntimeState({
          file: path.resolve(config.state.file),
          ...(sharedSink && { sink: sharedSink }),
          registry,
          runningPlaylists: () => playlists.running(),
          events,
          config,
          clock,
          logger,
        })
      : undefined;
  const plainCommands = createCommands({ registry, config, events, jobs, inference, clock, logger });
  const canvasCommands = runtime?.wrap(plainCommands) ?? plainCommands;
  // Cluster mode: a command on a canvas another node produces is carried out there (playlists' too).
  const control = config.cluster.redisUrl ? createClusterControl({ config, cluster: () => cluster, events, clock, logger }) : undefined;
  const playlists = createPlaylistManager({
    dir: config.playlists.dir,
    commands: control?.route(canvasCommands) ?? canvasCommands,
    onFrame: registry.onFrame,
    canvases: registry,
    archive: replay,
    clock,
    logger,
  });
  const localCommands = withPlaylists(canvasCommands, { playlists, registry, events, logger });
  const commands = control?.route(localCommands) ?? localCommands;
  connectEventFeed(events, { canvases: registry, playlists });
  const canvasRoutes = registerCanvasRoutes({
    api,
    commands,
    registry,
    maxBodyBytes: config.operator.maxBodyBytes,
    extras: (slug) => ({ job: jobs.current(slug) ?? null, playlist: playlists.status(slug) }),
    view: (canvas) => shared?.view(canvas) ?? canvas,
    ownerView: control?.describe,
  });
  control?.serve(localCommands, canvasRoutes.canvasState);
  registerPlaylistRoutes(api, playlists);
  registerAuthRoutes(api);
  /** Declared canvases are produced by the node holding their lease; created ones by the node their displays joined. */
  const producedHere = (c: { slug: string; started: boolean }) =>
    c.started && (!cluster || !registry.isDeclared(c.slug) || cluster.mayPublish(c.slug));
  const producedHereSlug = (slug: string) => registry.get(slug) !== undefined && producedHere(registry.get(slug)!);
  // Without cluster.redisUrl nothing of this exists: Easel runs alone, as it always has.
  const node =
    reference &&
    connectClusterNode({
      config,
      ownClock,
      reference,
      logger,
      registry,
      runtime,
      sink: sharedSink,
      jobs,
      playlists,
      localCommands,
      producedHere,
      displayCount: () => displays.sockets.size,
    });
  cluster = node ? node.cluster : undefined;
  const shared = node ? node.shared : undefined;
  registerClusterRoute(api, cluster, control?.stats);
  // OSC out, webhooks and their delivery log (README, OSC out and Webhooks).
  const outputs = connectOutputs({
    config,
    events,
    canvases: registry,
    api,
    clock,
    logger,
    ...(cluster && { producedHere: producedHereSlug }),
  });
  // Every generated frame and upload kept, and proof of play (docs/archive.md); in a cluster, by the node producing the canvas.
  const archive = connectArchive({
    config,
    canvases: registry,
    register: metrics.register,
    clock,
    logger,
    producedHere: cluster && producedHereSlug,
  });
  // Its HTTP side: list, images and thumbnails, star, delete, show again, zip export (docs/api.md, Archive).
  registerArchiveApi({
    app,
    api,
    archive,
    commands,
    thumbCacheMb: config.archive.thumbCacheMb,
    limitInputPixels: config.render.limitInputPixels,
    privateReads: Boolean(config.displays.token),
    register: metrics.register,
    logger,
  });
  const sse = registerEventsRoute(app, {
    events,
    commands,
    clock,
    isClosing,
    limits: config.limits,
    admit: (res, req) => api.admit(res, req, { view: true }),
  });

  registerHealthRoutes(app, {
    registry,
    isClosing,
    startedAt: clock.now(),
    inference,
    clock,
    cluster: cluster && {
      redisState: cluster.redisState,
      clock: cluster.clock,
      producedHere: (slug) => producedHere(registry.existing(slug)),
    },
  });
  const displays = registerDisplayRoute(app, {
    registry,
    displayToken: config.displays.token || undefined,
    operatorToken: () => operatorToken,
    authFailures,
    hosts,
    limits: config.limits,
    logger,
    clock,
    isClosing,
    maxBackpressureBytes: config.displays.maxBackpressureBytes,
    idleTimeoutSeconds: config.displays.idleTimeoutSeconds,
    onDisplay: (event) => events.emit(event),
    otherConnections: () => mjpeg.readers,
    clustered: config.cluster.redisUrl !== '',
  });
  // Before the pages: /c/<slug>.mjpeg and the page /c/<slug> share a route pattern.
  const mjpeg = registerMjpegRoute(app, { admission: displays.admission, logger, clock, onDisplay: (event) => events.emit(event) });
  const pages = registerPageRoutes(app, { distDir: DEFAULT_DIST_DIR, logger, clock });
  metrics.bind({
    canvases: registry,
    renderer,
    displays,
    inference,
    osc: () => osc?.results,
    relay: () => cluster?.relay.stats,
    outputs: outputs.stats,
    cluster: cluster && { cluster: cluster.stats, relay: () => cluster!.relay.stats },
    refusedRequests: () => ({
      fd_headroom: admission.refused,
      event_streams: sse.refused.eventStreams,
      event_streams_per_address: sse.refused.eventStreamsPerAddress,
    }),
  });
  if (cluster) registerClockMetrics(metrics.register, cluster.clock);
  registerMetricsRoute(app, metrics);
  app.any('/*', (res, req) => {
    replyProblem(res, 404, {
      title: 'Not found',
      detail: `Nothing is served at "${req.getUrl()}"`,
      hint: 'Displays connect to /ws/<canvas-slug>; health is at /healthz and /readyz',
    });
  });

  return {
    registry,
    displays,
    mjpeg,
    inference,
    commands,
    events,
    archive,
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
      if (cluster && config.state.file)
        logger.info(
          { file: config.state.file },
          'Cluster mode: runtime state is kept in Redis; the state file is neither read nor written',
        );
      const saved = runtime && !cluster && (await loadSavedState(runtime.file, logger));
      const restore: RestoreDeps | undefined = saved && runtime ? { saved, runtime, registry, config, clock, logger } : undefined;
      // Cluster mode: the first hello and pong already on the cluster's clock (unless Redis is not there yet).
      await cluster?.clockReady(2000);
      const socket = await listenWithRetry(app, config.host, config.port, logger, clock);
      listenSocket = socket;
      const sources = restore ? restorableSources(restore) : new Map();
      // Cluster mode: declared canvases wait for their lease (cluster.start takes this node's share).
      registry.startDeclared((slug) => startingSource(sources.get(slug)), { startNow: cluster === undefined });
      if (restore) await restoreCanvases(restore, sources);
      if (restore) void restoreArchiveSources(restore, sources, archive?.ready, isClosing);
      await playlists.ready;
      if (restore) await restorePlaylists(restore, playlists);
      cluster?.start(uWS.us_socket_local_port(socket));
      if (config.osc.enabled) {
        osc = await createOscListener({ host: config.osc.host, port: config.osc.port, commands, logger });
        logger.info({ host: config.osc.host, port: osc.port }, 'Listening for OSC commands');
      }
      return uWS.us_socket_local_port(socket);
    },

    close() {
      closed ??= (async () => {
        closing = true;
        // Other nodes' commands wait for this node's canvases' next owner from here on.
        control?.close();
        // Cluster mode: the canvases this node produces go to other nodes first, while they still run here.
        await cluster?.leave().catch(() => 0);
        // First, while canvases and playlists still run: their state is what the next start restores.
        await runtime?.close();
        await osc?.close();
        await outputs.close();
        await playlists.close();
        pages.close();
        if (listenSocket) uWS.us_listen_socket_close(listenSocket);
        listenSocket = undefined;
        const stopping = registry.closeAll();
        displays.closeAll();
        mjpeg.closeAll();
        sse.closeAll();
        await stopping;
        await archive?.close();
        await inference?.close();
        shared?.close();
        await cluster?.close();
        // Last, whatever is still connected: an HTTP client keeping its connection alive (a
        // metrics scraper, a browser) would otherwise hold the process open past its shutdown.
        app.close();
      })();
      return closed;
    },
  };
}
