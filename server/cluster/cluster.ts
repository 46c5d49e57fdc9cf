import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import type { EaselConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { createLeaseKeeper, renewIntervalOf, type LeaseKeeper, type LeaseStats } from './lease-keeper.js';
import { createLeaseStore, type LeaseStore } from './lease.js';
import { createHandover, createRedisHandoverBus, type HandoverStats } from './handover.js';
import { createPlacement, type PeerLoad } from './placement.js';
import { createNodeRegistry, type NodeActivity, type NodeInfo, type NodeRegistry } from './nodes.js';
import { createClockSync, MAX_CLOCK_OFFSET_MS, type ClockState, type NodeClock } from './clock-sync.js';
import type { ReferenceClock } from './reference-clock.js';
import { createOwnerChanges, type CanvasOwnerChanges } from './owner-changes.js';
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
  /** Canvases this node produces for its own displays only: their lease ran out while Redis was down. */
  islands: string[];
  nodes: Array<NodeInfo & { self: boolean; clock: ClockState }>;
  /** This node's side of the frame relay since it started. */
  relay: RelayStats;
  /** Per canvas, how long screens here waited each time it changed hands (owner-changes.ts). */
  ownerChanges: Record<string, CanvasOwnerChanges>;
}

export interface Cluster {
  readonly nodeId: string;
  /** The cluster's one Redis connection (commands fail at once while it is down). */
  readonly redis: Redis;
  readonly leases: LeaseStore;
  readonly keeper: LeaseKeeper;
  readonly nodes: NodeRegistry;
  readonly relay: Relay;
  /**
   * Whether this node produces a declared canvas now: it holds the lease by its own clock
   * (fencing at each slot), or the canvas is an island (its lease ran out while Redis was down:
   * produced for this node's own displays only, nothing relayed).
   */
  mayPublish(slug: string): boolean;
  /** For metrics. */
  stats(): ClusterStats;
  redisState(): RedisState;
  /** This node's clock against Redis's, and the correction it stamps times with (clock-sync.ts). */
  clock(): NodeClock;
  /** Resolves true once the clock is measured, false after `timeoutMs` without (Redis not there). */
  clockReady(timeoutMs: number): Promise<boolean>;
  /** Starts heartbeats; `port` is where this node listens (for the default advertised address). */
  start(port: number): void;
  view(): Promise<ClusterView>;
  /**
   * Stopping cleanly, first thing, while the canvases still run: hands each canvas this node
   * produces straight to another live node (handover.ts), so screens everywhere go on without a
   * gap; bounded by one lease length. What is not handed over is released by `close`.
   */
  leave(): Promise<number>;
  close(): Promise<void>;
}

export interface ClusterStats {
  redisUp: boolean;
  /** Declared canvases this node produces, islands included. */
  owned: number;
  islands: number;
  liveNodes: number;
  lease: Readonly<LeaseStats>;
  ownerChanges: ReadonlyMap<string, CanvasOwnerChanges>;
  handover: Readonly<HandoverStats>;
}

/** The one line a node logs when Redis goes: what is wrong, what this node does meanwhile, what to do. */
export function outageLine(url: string, reason: string, owned: readonly string[]): string {
  const mine = owned.length > 0 ? `it keeps producing ${owned.join(', ')} for its own displays only` : 'it produces no canvas';
  return `Redis at ${url} is unreachable (${reason}): nothing crosses nodes, ${mine}, displays of other canvases keep their last frame; start Redis or fix cluster.redisUrl, the cluster heals by itself when it is back`;
}

export interface ClusterOptions {
  config: EaselConfig;
  /** This node's own clock: leases and heartbeats are timed on it. */
  clock: Clock;
  /** The cluster's time base (its own clock corrected to Redis's): relayed frames and wants are stamped on it. */
  reference: ReferenceClock;
  logger: Logger;
  activity: () => NodeActivity;
  /**
   * This node now produces a declared canvas (it took the lease), or must stop (lost or handed
   * back). `startAt` (cluster time): a canvas handed over starts its slots there, on its giver's cadence.
   */
  produce: (slug: string, producing: boolean, startAt?: number) => void;
  /** Before handing a canvas over: waits for its next frame (bounded), writes its state; resolves with its next slot (cluster time). */
  beforeHandover?: (slug: string) => Promise<number | undefined>;
  /** Where relayed frames go: this node's canvases and the renditions their displays want. */
  frames: {
    /** Shows a frame another node produced; false when the canvas showed a later one already. */
    deliver: (slug: string, frame: Frame) => boolean;
    wantedHere: (slug: string) => RenditionSpec[];
    /** This node starts producing a canvas: its frames are numbered on from `seq`. */
    raiseSeq: (slug: string, seq: number) => void;
    /** The seq of the frame a canvas shows here now (0 before any). */
    shownSeq?: (slug: string) => number;
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
  const clockSync = createClockSync({ time: () => redis.time(), local: clock, reference: options.reference, nodeId, logger: log });
  clockSync.start();
  /** Settles when Redis is found down: nothing to wait for then. */
  let noRedis: () => void = () => undefined;
  const redisDown = new Promise<boolean>((resolve) => (noRedis = () => resolve(false)));
  /** Live nodes as placement last counted them (0 before it could). */
  let liveNodes = 0;

  const down = (reason: string) => {
    noRedis();
    if (redisState.state === 'down' || closing) return;
    redisState = { state: 'down', reason };
    const owned = keeper.held().map((h) => h.slug);
    // One line per outage: what is wrong, what this node does meanwhile, what to do.
    log.error({ redis: url, reason, owned }, outageLine(url, reason, owned));
  };
  redis.on('error', (err: Error) => down(err.message));
  redis.on('close', () => down('connection closed'));
  redis.on('ready', () => {
    if (redisState.state === 'down') log.info({ redis: url }, `Redis at ${url} is reachable again`);
    else log.info({ redis: url, leaseMs }, `Cluster mode: node ${nodeId} joined through Redis at ${url}`);
    redisState = { state: 'up' };
    // Measured at once, so no lease is taken (and no frame stamped) before the correction is known.
    clockSync.measure().catch(() => undefined);
    keeper.rejoin();
  });

  const leases = createLeaseStore({ redis, nodeId, leaseMs });
  // The relay is told too: a node stops listening to the frames of a canvas it produces (Redis
  // would send its own frames back to it) and listens again the moment it stops.
  const produce = (slug: string, producing: boolean, startAt?: number) => {
    relay.producing(slug, producing);
    options.produce(slug, producing, startAt);
  };
  const keeper = createLeaseKeeper({
    store: leases,
    clock,
    logger: log,
    onLost: (slug) => produce(slug, false),
    redisDown: () => redisState.state === 'down',
  });
  const nodes = createNodeRegistry({
    redis,
    nodeId,
    get address() {
      return advertisedAddress(config, port);
    },
    ttlMs: leaseMs,
    clock,
    clockStatus: clockSync.status,
    activity: options.activity,
    logger: log,
  });

  const heldEpoch = (slug: string) => {
    const lease = keeper.held().find((h) => h.slug === slug);
    return lease !== undefined && keeper.isHeld(slug, lease.epoch) ? lease.epoch : undefined;
  };
  const ownerChanges = createOwnerChanges({ logger: log });
  const relay = createRelay({
    ownerChanges,
    bus: createRedisRelayBus(redis),
    nodeId,
    slugs: config.canvases.map((c) => c.slug),
    clock: options.reference,
    logger: log,
    epochOf: heldEpoch,
    currentEpoch: async (slug) => (redisState.state === 'up' ? (await leases.holder(slug))?.epoch : undefined),
    deliver: options.frames.deliver,
    wantedHere: options.frames.wantedHere,
    raiseSeq: options.frames.raiseSeq,
    shownSeq: options.frames.shownSeq,
    intervalMs: renewIntervalOf(leaseMs),
  });

  const declared = config.canvases.map((c) => c.slug);
  const handover = createHandover({
    bus: createRedisHandoverBus(redis, nodeId),
    keeper,
    nodeId,
    declared,
    clock,
    logger: log,
    prepare: async (slug) => options.beforeHandover?.(slug),
    onChange: produce,
  });
  /** Live nodes and their canvases as placement last listed them: where a canvas is handed over to. */
  let peers: PeerLoad[] = [];
  const placement = createPlacement({
    nodeId,
    declared,
    leases,
    keeper,
    // This node counts even before its first heartbeat is in the list.
    liveNodes: async () => {
      const listed = await nodes.list();
      peers = listed.map((n) => ({ id: n.id, canvases: n.canvases.length }));
      liveNodes = listed.length + (listed.some((n) => n.id === nodeId) ? 0 : 1);
      return liveNodes;
    },
    clock,
    onChange: produce,
    handover: { peers: () => peers, give: handover.give },
    logger: log,
  });

  return {
    nodeId,
    redis,
    leases,
    keeper,
    nodes,
    relay,
    mayPublish: (slug) => heldEpoch(slug) !== undefined || keeper.islanded(slug),
    stats: () => ({
      redisUp: redisState.state === 'up',
      owned: keeper.held().length,
      islands: keeper.held().filter((h) => keeper.islanded(h.slug)).length,
      liveNodes,
      lease: keeper.stats,
      ownerChanges: ownerChanges.stats,
      handover: handover.stats,
    }),
    redisState: () => redisState,
    clock: clockSync.status,
    clockReady: (timeoutMs) => Promise.race([clockSync.ready(timeoutMs), redisDown]),
    start(listenPort) {
      port = listenPort;
      nodes.start();
      relay.start();
      // Frames it produces carry presentAt to other nodes: not before this node knows the cluster's time.
      // A lease needs Redis anyway; after one lease length it goes ahead (Redis refuses TIME, or is slow).
      void clockSync.ready(leaseMs).then(() => {
        if (closing) return;
        placement.start();
        handover.listen();
      });
    },
    async view() {
      const listed = redisState.state === 'up' ? await nodes.list().catch(() => []) : [];
      return {
        mode: 'cluster',
        nodeId,
        redis: { ...redisState, url },
        leaseMs,
        maxClockOffsetMs: MAX_CLOCK_OFFSET_MS,
        islands: keeper
          .held()
          .map((h) => h.slug)
          .filter((slug) => keeper.islanded(slug)),
        nodes: listed.map((n) => ({
          ...n,
          self: n.id === nodeId,
          // A record without its own verdict (an older node) is judged on its offset alone.
          clock: n.clock ?? (n.clockOffsetMs === null || Math.abs(n.clockOffsetMs) <= MAX_CLOCK_OFFSET_MS ? 'ok' : 'far'),
        })),
        relay: { ...relay.stats, refused: { ...relay.stats.refused } },
        ownerChanges: Object.fromEntries([...ownerChanges.stats].map(([slug, h]) => [slug, { ...h }])),
      };
    },
    async leave() {
      if (closing || redisState.state !== 'up') return 0;
      let timer: unknown;
      const bound = new Promise<number>((resolve) => {
        timer = clock.setTimeout(() => resolve(0), leaseMs);
      });
      try {
        return await Promise.race([placement.leave(), bound]);
      } finally {
        clock.clearTimeout(timer);
      }
    },
    async close() {
      closing = true;
      await placement.close();
      handover.close();
      // Leases given back at once: the other nodes take these canvases without waiting a lease out.
      await keeper.close();
      await relay.close();
      await nodes.close();
      clockSync.close();
      redis.disconnect();
    },
  };
}
