/**
 * This server as one node of a cluster: the cluster itself (leases, relay, handover, clock)
 * joined to this node's canvases, and the shared state that lets another node resume them.
 * Created only with `cluster.redisUrl`; without it Easel runs alone, as it always has.
 */
import type { Registry } from '../canvas/registry.js';
import type { EaselConfig } from '../config.js';
import type { JobTracker } from '../control/jobs.js';
import type { Commands } from '../control/playlist-commands.js';
import type { RuntimeState } from '../control/runtime-state.js';
import type { Logger } from '../logger.js';
import type { PlaylistManager } from '../playlist/playlist-manager.js';
import type { Clock } from '../stream/clock.js';
import { createCluster, type Cluster } from './cluster.js';
import type { ReferenceClock } from './reference-clock.js';
import { createSharedState, type SharedState, type SharedStateSink } from './shared-state.js';

export interface ClusterNodeOptions {
  config: EaselConfig;
  /** This node's own clock, and the cluster's time base built on it. */
  ownClock: Clock;
  reference: ReferenceClock;
  logger: Logger;
  registry: Registry;
  /** Runtime state and its Redis sink: without them (no state kept) a canvas taken over starts afresh. */
  runtime: RuntimeState | undefined;
  sink: SharedStateSink | undefined;
  jobs: JobTracker;
  playlists: PlaylistManager;
  /** Commands on this node's own canvases, for the view other nodes show of them. */
  localCommands: Pick<Commands, 'get'>;
  /** Whether this node produces a canvas (declared ones: it holds the lease). */
  producedHere: (canvas: { slug: string; started: boolean }) => boolean;
  displayCount: () => number;
}

export function connectClusterNode(options: ClusterNodeOptions): { cluster: Cluster; shared: SharedState | undefined } {
  const { config, registry, runtime, sink, jobs, playlists, logger } = options;
  let shared: SharedState | undefined;
  const cluster = createCluster({
    config,
    clock: options.ownClock,
    reference: options.reference,
    logger,
    activity: () => ({
      canvases: registry
        .list()
        .filter(options.producedHere)
        .map((c) => c.slug),
      displays: options.displayCount(),
    }),
    // Restored from the state the last owner kept in Redis before the first frame here.
    produce: (slug, producing, startAt) => (shared ? shared.produce(slug, producing, startAt) : registry.produce(slug, producing, startAt)),
    beforeHandover: async (slug) => shared?.beforeHandover(slug),
    frames: {
      deliver: (slug, frame) => registry.get(slug)?.receive(frame) ?? false,
      wantedHere: (slug) => registry.get(slug)?.channel.wantedSpecs() ?? [],
      raiseSeq: (slug, seq) => registry.get(slug)?.raiseSeq(seq),
      shownSeq: (slug) => registry.get(slug)?.channel.latest?.seq ?? 0,
    },
  });
  if (runtime && sink)
    shared = createSharedState({
      cluster,
      sink,
      runtime,
      registry,
      jobs,
      playlists,
      config,
      clock: options.reference,
      logger,
      describe: (slug) => ({ ...options.localCommands.get(slug), job: jobs.current(slug) ?? null, playlist: playlists.status(slug) }),
    });
  if (config.createCanvasesOnConnect)
    logger.info(
      'Cluster mode: displays join declared canvases only (each is produced by one node under a lease); createCanvasesOnConnect applies to a server alone',
    );
  return { cluster, shared };
}
