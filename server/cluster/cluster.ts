import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { EaselConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { createLeaseKeeper, renewIntervalOf, type LeaseKeeper } from './lease-keeper.js';
import { createLeaseStore, type LeaseStore } from './lease.js';
import { createPlacement } from './placement.js';
import { createNodeRegistry, MAX_CLOCK_OFFSET_MS, type NodeActivity, type NodeInfo, type NodeRegistry } from './nodes.js';
import { createRedis, redactRedisUrl } from './redis.js';
import { createRedisRelayBus, createRelay, type Relay, type RelayStats } from './relay.js';
import type { Frame } from '../canvas/frame.js';
import type { RenditionSpec } from '../stream/rendition.js';

/**
 * Cluster mode, as far as it is built: one Redis connection, this node's heartbeat in the node
 * registry, and the declared canvases placed by lease (each produced by the node holding its
 * lease), and their frames relayed to the other nodes. Runtime state crosses nodes through
 * shared-state.ts (wired in app.ts); commands do not yet (see README, Cluster).
 */

export interface RedisState {
  state: 'connecting' | 'up' | 'down';
  /** Why it is down, in plain words. */
  reason?: string;
}

export interface ClusterView {
  mode: 'cluster';
  nodeId: string;
  redis: RedisState & { url: string };
  leaseMs: number;
  maxClockOffsetMs: number;
  nodes: Array<NodeInfo & { self: boolean; clock: 'ok' | 'far' }>;
  /** This node's side of the frame relay since it started. */
  relay: RelayStats;
}

export interface Cluster {
  readonly nodeId: string;
  /** The cluster's one Redis connection (commands fail at once while it is down). */
  readonly redis: Redis;
  readonly leases: LeaseStore;
  readonly keeper: LeaseKeeper;
  readonly nodes: NodeRegistry;
  readonly relay: Relay;
  /** Whether this node holds the lease of a declared canvas now, by its own clock (fencing at each slot). */
  mayPublish(slug: string): boolean;
  redisState(): RedisState;
  /** Starts heartbeats; `port` is where this node listens (for the default advertised address). */
  start(port: number): void;
  view(): Promise<ClusterView>;
  close(): Promise<void>;
}

export interface ClusterOptions {
  config: EaselConfig;
  clock: Clock;
  logger: Logger;
  activity: () => NodeActivity;
  /** This node now produces a declared canvas (it took the lease), or must stop (lost or handed back). */
  produce: (slug: string, producing: boolean) => void;
  /** Where relayed frames go: this node's canvases and the renditions their displays want. */
  frames: {
    /** Shows a frame another node produced; false when the canvas showed a later one already. */
    deliver: (slug: string, frame: Frame) => boolean;
    wantedHere: (slug: string) => RenditionSpec[];
    /** This node starts producing a canvas: its frames are numbered on from `seq`. */
    raiseSeq: (slug: string, seq: number) => void;
  };
}

/** host:port others reach this node at: the configured one, else the listen address (a wildcard is the host name). */
export function advertisedAddress(config: EaselConfig, port: number): string {
  if (config.cluster.advertiseAddress) return config.cluster.advertiseAddress;
  const host = config.host === '0.0.0.0' || config.host === '::' || config.host === '' ? hostname() : config.host;
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

export function createCluster(options: ClusterOptions): Cluster {
  const { config, clock } = options;
  const { nodeId, leaseMs, redisUrl } = config.cluster;
  const url = redactRedisUrl(redisUrl);
  const log = options.logger.child({ component: 'cluster', nodeId });
  const redis = createRedis({ url: redisUrl, commandTimeoutMs: Math.floor(leaseMs / 3) });
  let redisState: RedisState = { state: 'connecting' };
  let port = 0;
  let closing = false;

  const down = (reason: string) => {
    if (redisState.state === 'down' || closing) return;
    redisState = { state: 'down', reason };
    // One line per outage: what is wrong, what this node does meanwhile, what to do.
    log.error(
      { redis: url, reason },
      `Redis at ${url} is unreachable (${reason}): this node's canvases stop when their leases run out and its displays keep their last frame; start Redis or fix cluster.redisUrl, the cluster heals by itself when it is back`,
    );
  };
  redis.on('error', (err: Error) => down(err.message));
  redis.on('close', () => down('connection closed'));
  redis.on('ready', () => {
    if (redisState.state === 'down') log.info({ redis: url }, `Redis at ${url} is reachable again`);
    else log.info({ redis: url, leaseMs }, `Cluster mode: node ${nodeId} joined through Redis at ${url}`);
    redisState = { state: 'up' };
  });

  const leases = createLeaseStore({ redis, nodeId, leaseMs });
  // The relay is told too: a node stops listening to the frames of a canvas it produces (Redis
  // would send its own frames back to it) and listens again the moment it stops.
  const produce = (slug: string, producing: boolean) => {
    relay.producing(slug, producing);
    options.produce(slug, producing);
  };
  const keeper = createLeaseKeeper({ store: leases, clock, logger: log, onLost: (slug) => produce(slug, false) });
  const nodes = createNodeRegistry({
    redis,
    nodeId,
    get address() {
      return advertisedAddress(config, port);
    },
    ttlMs: leaseMs,
    clock,
    activity: options.activity,
    logger: log,
  });

  const heldEpoch = (slug: string) => {
    const lease = keeper.held().find((h) => h.slug === slug);
    return lease !== undefined && keeper.isHeld(slug, lease.epoch) ? lease.epoch : undefined;
  };
  const relay = createRelay({
    bus: createRedisRelayBus(redis),
    nodeId,
    slugs: config.canvases.map((c) => c.slug),
    clock,
    logger: log,
    epochOf: heldEpoch,
    currentEpoch: async (slug) => (redisState.state === 'up' ? (await leases.holder(slug))?.epoch : undefined),
    deliver: options.frames.deliver,
    wantedHere: options.frames.wantedHere,
    raiseSeq: options.frames.raiseSeq,
    intervalMs: renewIntervalOf(leaseMs),
  });

  const placement = createPlacement({
    nodeId,
    declared: config.canvases.map((c) => c.slug),
    leases,
    keeper,
    // This node counts even before its first heartbeat is in the list.
    liveNodes: async () => {
      const ids = (await nodes.list()).map((n) => n.id);
      return ids.length + (ids.includes(nodeId) ? 0 : 1);
    },
    clock,
    onChange: produce,
    logger: log,
  });

  return {
    nodeId,
    redis,
    leases,
    keeper,
    nodes,
    relay,
    mayPublish: (slug) => heldEpoch(slug) !== undefined,
    redisState: () => redisState,
    start(listenPort) {
      port = listenPort;
      nodes.start();
      relay.start();
      placement.start();
    },
    async view() {
      const listed = redisState.state === 'up' ? await nodes.list().catch(() => []) : [];
      return {
        mode: 'cluster',
        nodeId,
        redis: { ...redisState, url },
        leaseMs,
        maxClockOffsetMs: MAX_CLOCK_OFFSET_MS,
        nodes: listed.map((n) => ({
          ...n,
          self: n.id === nodeId,
          clock: Math.abs(n.clockOffsetMs) > MAX_CLOCK_OFFSET_MS ? 'far' : 'ok',
        })),
        relay: { ...relay.stats, refused: { ...relay.stats.refused } },
      };
    },
    async close() {
      closing = true;
      await placement.close();
      // Leases given back at once: the other nodes take these canvases without waiting a lease out.
      await keeper.close();
      await relay.close();
      await nodes.close();
      redis.disconnect();
    },
  };
}
