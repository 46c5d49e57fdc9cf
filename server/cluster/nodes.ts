import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { ClockState, NodeClock } from './clock-sync.js';

/**
 * The node registry: each node writes what it is and what it does to `<prefix>node:<id>` every
 * heartbeat, expiring after one lease length, and adds its id to the `<prefix>nodes` set. A
 * node whose key has expired is gone: a node is live exactly as long as it could hold a lease.
 */

export interface NodeInfo {
  id: string;
  address: string;
  canvases: string[];
  displays: number;
  /** Redis time (ms) of its last heartbeat. */
  heartbeatAt: number;
  /** Its own clock's offset to Redis's, ms (Redis = node + offset), and the error bound of that estimate; null before it measured. */
  clockOffsetMs: number | null;
  clockErrorMs: number | null;
  /** What it adds to its own clock to stamp times on the cluster's (Redis's) clock, ms. */
  clockCorrectionMs: number;
  /** `far`: its own clock is off (corrected); `unsynced`: its correction cannot be vouched for (clock-sync.ts). */
  clock: ClockState;
  startedAt: number;
}

export interface NodeActivity {
  canvases: string[];
  displays: number;
}

export interface NodeRegistryOptions {
  redis: Redis;
  nodeId: string;
  address: string;
  /** A node is forgotten this long after its last heartbeat; heartbeats come three times as often. */
  ttlMs: number;
  /** This node's own clock (heartbeat timers; its times are told on Redis's clock, through clockStatus). */
  clock: Clock;
  /** This node's clock against Redis's (clock-sync.ts). */
  clockStatus: () => NodeClock;
  activity: () => NodeActivity;
  prefix?: string;
  logger?: Logger;
}

export interface NodeRegistry {
  /** Heartbeats now and then every third of the TTL. */
  start(): void;
  /** One heartbeat: writes this node's record. */
  beat(): Promise<NodeInfo>;
  /** Live nodes, by id. */
  list(): Promise<NodeInfo[]>;
  /** Stops heartbeats and removes this node's record, so the others see it leave at once. */
  close(): Promise<void>;
}

export function createNodeRegistry(options: NodeRegistryOptions): NodeRegistry {
  const { redis, nodeId, clock, logger } = options;
  const prefix = options.prefix ?? 'easel:';
  const setKey = `${prefix}nodes`;
  const keyOf = (id: string) => `${prefix}node:${id}`;
  const startedAt = clock.now();
  let timer: unknown;
  let closed = false;
  let failing = false;

  const beat = async (): Promise<NodeInfo> => {
    const time = options.clockStatus();
    const now = clock.now();
    const info: NodeInfo = {
      id: nodeId,
      address: options.address,
      ...options.activity(),
      heartbeatAt: Math.round(now + time.correctionMs),
      clockOffsetMs: time.offsetMs,
      clockErrorMs: time.errorMs,
      clockCorrectionMs: time.correctionMs,
      clock: time.state,
      startedAt: Math.round(startedAt + time.correctionMs),
    };
    await redis.multi().set(keyOf(nodeId), JSON.stringify(info), 'PX', options.ttlMs).sadd(setKey, nodeId).exec();
    return info;
  };

  const tick = () => {
    timer = undefined;
    if (closed) return;
    beat().then(
      () => {
        if (failing) logger?.debug({ nodeId }, 'Node heartbeat reaches Redis again');
        failing = false;
      },
      (err: unknown) => {
        // The connection's own line (cluster.ts) says Redis is down; this is detail.
        if (!failing) logger?.debug({ nodeId, err: String(err) }, 'Node heartbeat cannot reach Redis');
        failing = true;
      },
    );
    timer = clock.setTimeout(tick, Math.floor(options.ttlMs / 3));
  };

  return {
    start() {
      if (timer === undefined && !closed) tick();
    },
    beat,
    async list() {
      const ids = await redis.smembers(setKey);
      if (ids.length === 0) return [];
      const records = await redis.mget(ids.map(keyOf));
      const gone = ids.filter((_, i) => records[i] === null);
      if (gone.length > 0) await redis.srem(setKey, ...gone);
      return records
        .filter((r): r is string => r !== null)
        .map((r) => JSON.parse(r) as NodeInfo)
        .sort((a, b) => a.id.localeCompare(b.id));
    },
    async close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await redis
        .multi()
        .del(keyOf(nodeId))
        .srem(setKey, nodeId)
        .exec()
        .catch(() => undefined);
    },
  };
}
