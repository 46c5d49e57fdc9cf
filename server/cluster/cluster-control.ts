import type { EaselConfig } from '../config.js';
import type { EventBus } from '../control/events.js';
import type { Commands } from '../control/playlist-commands.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { Cluster } from './cluster.js';
import { createClusterEvents, type ClusterEventsStats } from './cluster-events.js';
import { createClusterJobs } from './cluster-jobs.js';
import { createCommandRouter, type CommandRouterStats } from './command-router.js';
import { createRedisControlBus } from './control-bus.js';
import { renewIntervalOf } from './lease-keeper.js';
import { remoteHandler, routeCommands, type RoutableCommands } from './routed-commands.js';

/**
 * Commands, events and jobs across the cluster, wired in one place so the app needs a few
 * lines: `route` gives the commands every surface uses, `serve` lets other nodes use this
 * node's own, `describe` is a canvas as its owner shows it.
 */
export interface ClusterControlOptions {
  config: EaselConfig;
  /** Made after the commands (it needs the registry's activity); asked only when a command runs. */
  cluster: () => Cluster | undefined;
  events: EventBus;
  clock: Clock;
  logger: Logger;
  /** How long a forwarded command may take on the owner; default 10 s. */
  timeoutMs?: number;
}

export interface ClusterControl {
  route<T extends RoutableCommands>(inner: T): T;
  serve(commands: Commands, describe: (slug: string) => unknown): void;
  /** A declared canvas another node produces, as that node's API shows it; undefined when it is this node's (or cannot be asked). */
  describe(slug: string): Promise<Record<string, unknown> | undefined>;
  stats(): { commands: CommandRouterStats; events: ClusterEventsStats };
  close(): void;
}

export function createClusterControl(options: ClusterControlOptions): ClusterControl {
  const { config, clock, events } = options;
  const { nodeId, leaseMs, redisUrl } = config.cluster;
  const logger = options.logger.child({ component: 'cluster', nodeId });
  const declared = new Set(config.canvases.map((c) => c.slug));
  const producedHere = (slug: string) => options.cluster()?.mayPublish(slug) === true;
  const bus = createRedisControlBus(redisUrl, nodeId);
  const router = createCommandRouter({
    bus,
    nodeId,
    clock,
    logger,
    ownerOf: async (slug) => (await options.cluster()?.leases.holder(slug))?.owner,
    producedHere,
    // A dead owner's lease runs out, and the next placement step (one renewal interval) takes it.
    ownerWaitMs: leaseMs + 2 * renewIntervalOf(leaseMs),
    ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
  });
  const clusterEvents = createClusterEvents({
    bus,
    events,
    nodeId,
    clock,
    logger,
    shareable: (e) => !((e.type === 'canvas' || e.type === 'source') && declared.has(e.slug) && !producedHere(e.slug)),
  });
  const jobs = createClusterJobs({ store: bus, events, nodeId, isRemote: clusterEvents.isRemote, logger });
  bus.listen(router.receive, clusterEvents.receive);

  return {
    route: (inner) => routeCommands(inner, { router, shared: (slug) => declared.has(slug), imageLimits: config.render, jobs, nodeId }),
    serve: (commands, describe) => router.serve(remoteHandler(commands, describe)),
    async describe(slug) {
      if (!declared.has(slug)) return undefined;
      // The command itself was answered already: a view that cannot be had is this node's own.
      return router.onCanvas<Record<string, unknown> | undefined>(slug, 'describe', [], () => undefined).catch(() => undefined);
    },
    stats: () => ({ commands: router.stats, events: clusterEvents.stats }),
    close() {
      router.close();
      clusterEvents.close();
      jobs.close();
      bus.close();
    },
  };
}
