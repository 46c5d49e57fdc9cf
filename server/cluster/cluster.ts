import { hostname } from 'node:os';
import type { EaselConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { createLeaseStore, type LeaseStore } from './lease.js';
import { createNodeRegistry, MAX_CLOCK_OFFSET_MS, type NodeActivity, type NodeInfo, type NodeRegistry } from './nodes.js';
import { createRedis, redactRedisUrl } from './redis.js';

/**
 * Cluster mode, as far as it is built: one Redis connection, this node's heartbeat in the node
 * registry, and the lease store. Canvases are not yet placed by lease, and frames, state and
 * commands do not cross nodes (see README, Cluster).
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
}

export interface Cluster {
  readonly nodeId: string;
  readonly leases: LeaseStore;
  readonly nodes: NodeRegistry;
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
      `Redis at ${url} is unreachable (${reason}): this node keeps serving its own displays; start Redis or fix cluster.redisUrl, the cluster heals by itself when it is back`,
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

  return {
    nodeId,
    leases,
    nodes,
    redisState: () => redisState,
    start(listenPort) {
      port = listenPort;
      nodes.start();
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
      };
    },
    async close() {
      closing = true;
      await nodes.close();
      redis.disconnect();
    },
  };
}
