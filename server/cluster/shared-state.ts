/**
 * Cluster mode's runtime state, wired: the node producing a canvas keeps its state (and the view
 * GET /api/canvases/:slug answers with) in Redis; a node taking a canvas over restores it first;
 * a node that does not produce a canvas answers the API with its owner's view. Replaces the state
 * file in cluster mode (see README, Cluster).
 */
import type { Registry } from '../canvas/registry.js';
import type { EaselConfig } from '../config.js';
import type { JobTracker } from '../control/jobs.js';
import type { RuntimeSink, RuntimeState } from '../control/runtime-state.js';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { PlaylistManager } from '../playlist/playlist-manager.js';
import type { Clock } from '../stream/clock.js';
import type { Cluster } from './cluster.js';
import { MAX_VIEW_BYTES, parseSharedView } from './shared-canvas-state.js';
import { createSharedStateStore } from './shared-state-store.js';
import { createStateKeeper, type Collected } from './state-keeper.js';
import { takeOver } from './state-takeover.js';

/** The runtime state's sink in cluster mode: still bytes stay in memory, for the keeper to write to Redis. */
export function createSharedStateSink() {
  const stills = new Map<string, { name: string; data: Buffer }>();
  let bound: { changed: () => void; close: () => Promise<void> } | undefined;
  const sink: RuntimeSink & {
    still(slug: string, name: string): Buffer | undefined;
    bind(to: { changed: () => void; close: () => Promise<void> }): void;
  } = {
    async keepStill(slug, name, image) {
      stills.set(slug, { name, data: image });
    },
    changed: () => bound?.changed(),
    // Called first at shutdown, while canvases and playlists still run: what is kept then is what the next owner resumes.
    close: async () => bound?.close(),
    still: (slug, name) => (stills.get(slug)?.name === name ? stills.get(slug)?.data : undefined),
    bind(to) {
      bound = to;
    },
  };
  return sink;
}

export type SharedStateSink = ReturnType<typeof createSharedStateSink>;

export interface SharedStateOptions {
  cluster: Cluster;
  sink: SharedStateSink;
  runtime: RuntimeState;
  registry: Registry;
  jobs: JobTracker;
  playlists: PlaylistManager;
  config: EaselConfig;
  clock: Clock;
  logger: Logger;
  /** What GET /api/canvases/:slug shows of a canvas on this node. */
  describe: (slug: string) => Record<string, unknown>;
}

/** Fields of the owner's view a node that does not produce the canvas shows instead of its own. */
const OWNER_FIELDS = ['state', 'fps', 'holding', 'source', 'job', 'playlist', 'producedBy', 'sharedAt'] as const;
const AWAY = { via: 'config', who: 'handover' } as const;

export function createSharedState(options: SharedStateOptions) {
  const { cluster, sink, runtime, registry, jobs, playlists, clock } = options;
  const { nodeId } = cluster;
  const log = options.logger.child({ component: 'shared-state', nodeId });
  const store = createSharedStateStore(cluster.redis);
  const limiter = createLogLimiter({ now: () => clock.now() });
  /** Raised at each change of ownership, so a takeover still reading Redis knows it was overtaken. */
  const generation = new Map<string, number>();
  /** Told to produce and not told to stop: a canvas being handed back writes nothing more (its playlist stops here). */
  const ours = new Set<string>();
  /** Being restored: nothing is written before the state read from Redis is in place. */
  const restoring = new Set<string>();
  const epochOf = (slug: string) =>
    ours.has(slug) ? cluster.keeper.held().find((h) => h.slug === slug && cluster.mayPublish(slug))?.epoch : undefined;

  const collect = (slug: string): Collected | undefined => {
    const canvas = registry.get(slug);
    if (!canvas) return undefined;
    const entry = runtime.snapshotCanvas(slug) ?? {};
    const status = playlists.status(slug);
    const job = jobs.current(slug);
    const last = canvas.channel.latest;
    const data = entry.hold && sink.still(slug, entry.hold.file);
    return {
      state: {
        // A hold whose bytes are not here cannot be shown by the next owner: not kept.
        canvas: data || !entry.hold ? entry : { ...entry, hold: undefined },
        ...(status?.state === 'running' && {
          playlist: { name: status.playlist, stepIndex: status.stepIndex, loopCount: status.loopCount },
        }),
        ...(job && { job }),
        seq: last?.seq ?? 0,
        presentAt: last?.presentAt ?? null,
      },
      view: options.describe(slug),
      ...(data && entry.hold && { still: { imageId: entry.hold.imageId, data } }),
    };
  };

  const keeper = createStateKeeper({
    store,
    nodeId,
    clock,
    logger: options.logger,
    epochOf: (slug) => (restoring.has(slug) ? undefined : epochOf(slug)),
    held: () => cluster.keeper.held().map((h) => h.slug),
    collect,
  });
  const unsubscribe = registry.onEvent((event) => {
    if (event.type === 'frame') keeper.frame(event.slug);
    else if (event.type === 'state' || event.type === 'source') keeper.changed(event.slug);
  });

  sink.bind({
    changed: () => keeper.changed(),
    async close() {
      unsubscribe();
      await Promise.all(cluster.keeper.held().map((h) => keeper.flush(h.slug)));
      keeper.close();
    },
  });

  const deps = {
    store,
    registry,
    runtime,
    playlists,
    jobs,
    config: options.config,
    clock,
    logger: log,
    nodeId,
    keepStill: (slug: string, name: string, data: Buffer) => void sink.keepStill(slug, name, data),
  };

  return {
    /** Hand this to createCluster as `produce`: a canvas taken is restored first, one lost stops here. */
    produce(slug: string, producing: boolean, startAt?: number): void {
      const gen = (generation.get(slug) ?? 0) + 1;
      generation.set(slug, gen);
      if (!producing) {
        ours.delete(slug);
        restoring.delete(slug);
        registry.produce(slug, false);
        playlists.stop(slug, AWAY);
        const job = jobs.current(slug);
        if (job) jobs.abandon(job, `Canvas "${slug}" moved to another node before the job ended`);
        return;
      }
      ours.add(slug);
      restoring.add(slug);
      const current = () => generation.get(slug) === gen && epochOf(slug) !== undefined;
      takeOver(deps, slug, current, startAt)
        .catch((err: unknown) => {
          log.error({ slug, err }, `Taking canvas "${slug}" over failed; it starts as it is here`);
          if (current()) registry.produce(slug, true, startAt);
        })
        .finally(() => {
          if (generation.get(slug) === gen) restoring.delete(slug);
          if (current()) keeper.changed(slug);
        });
    },

    /**
     * Before this node hands a canvas over: waits for its next frame (a paused or held canvas
     * shows none: at most 1.5 frame periods, 2 s), then writes its state now, with that frame's
     * seq and presentAt. Resolves with when its next slot falls on its cadence (cluster time).
     */
    async beforeHandover(slug: string): Promise<number | undefined> {
      const canvas = registry.get(slug);
      if (!canvas) return undefined;
      const periodMs = 1000 / canvas.snapshot().fps;
      await new Promise<void>((resolve) => {
        const timer = clock.setTimeout(done, Math.min(1.5 * periodMs, 2000));
        const stop = registry.onFrame(slug, done);
        function done() {
          clock.clearTimeout(timer);
          stop();
          resolve();
        }
      });
      await keeper.flush(slug);
      const last = canvas.channel.latest?.slotTime;
      if (last === undefined) return undefined;
      return last + Math.max(1, Math.ceil((clock.now() - last) / periodMs)) * periodMs;
    },

    /** A canvas as GET /api/canvases/:slug shows it: its owner's view when another node produces it. */
    async view<T extends { slug: string }>(local: T): Promise<T & Record<string, unknown>> {
      const { slug } = local;
      if (!registry.isDeclared(slug)) return local;
      if (epochOf(slug) !== undefined) return { ...local, producedBy: nodeId };
      let owner: ReturnType<typeof parseSharedView> | undefined;
      try {
        const read = await store.readView(slug, MAX_VIEW_BYTES);
        if (read.found) owner = parseSharedView(read.value, slug);
        else if (read.problem) throw new Error(`it ${read.problem}`);
      } catch (err) {
        const leftOut = limiter.take('shared-view');
        if (leftOut !== undefined)
          log.warn(
            { slug, leftOut, problem: (err as Error).message },
            `Owner's view of "${slug}" not read from Redis: ${(err as Error).message}`,
          );
      }
      if (!owner) return { ...local, producedBy: null };
      const merged: Record<string, unknown> = { ...local };
      for (const field of OWNER_FIELDS) if (field in owner) merged[field] = owner[field];
      // Frames relayed here are the owner's own and may be newer than its view (written once a second).
      const mine = (local as { lastFrame?: { seq: number } | null }).lastFrame;
      const theirs = owner.lastFrame as { seq?: number } | null | undefined;
      merged.lastFrame = (theirs?.seq ?? 0) > (mine?.seq ?? 0) ? theirs : (mine ?? theirs ?? null);
      return merged as T & Record<string, unknown>;
    },

    stats: keeper.stats,

    /** Stops writing (the runtime state's close flushes first). */
    close(): void {
      unsubscribe();
      keeper.close();
    },
  };
}

export type SharedState = ReturnType<typeof createSharedState>;
