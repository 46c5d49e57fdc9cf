import type { Redis } from 'ioredis';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';

/**
 * The node registry: each node writes what it is and what it does to `<prefix>node:<id>` every
 * heartbeat, expiring after one lease length, and adds its id to the `<prefix>nodes` set. A
 * node whose key has expired is gone: a node is live exactly as long as it could hold a lease.
 */

/** A clock further than this from Redis's puts screens on different nodes visibly out of step. */
export const MAX_CLOCK_OFFSET_MS = 50;

export interface ClockSample {
  /** Add to this node's clock to get Redis's, ms. */
  offsetMs: number;
  rttMs: number;
}

/**
 * Pure, as NTP does it: Redis read its clock somewhere between sending and receiving, so at
 * the middle of the round trip, within ± rtt/2.
 */
export function clockSample(sentAt: number, redisMs: number, receivedAt: number): ClockSample {
  return { offsetMs: redisMs - (sentAt + receivedAt) / 2, rttMs: receivedAt - sentAt };
}

/** The sample with the shortest round trip is the one with the smallest error. */
export function bestSample(samples: readonly ClockSample[]): ClockSample | undefined {
  return samples.reduce<ClockSample | undefined>((best, s) => (!best || s.rttMs < best.rttMs ? s : best), undefined);
}

/** To 0.1 ms, and never -0 (which JSON would write as 0). */
const tenths = (ms: number) => Math.round(ms * 10) / 10 || 0;

export interface NodeInfo {
  id: string;
  address: string;
  canvases: string[];
  displays: number;
  /** Redis time (ms) of its last heartbeat. */
  heartbeatAt: number;
  /** Its clock's offset to Redis's, ms (Redis = node + offset), and the error bound of that estimate. */
  clockOffsetMs: number;
  clockErrorMs: number;
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
  clock: Clock;
  activity: () => NodeActivity;
  prefix?: string;
  logger?: Logger;
  /** Round trips to Redis TIME per heartbeat; the shortest is kept. */
  samples?: number;
}

export interface NodeRegistry {
  /** Heartbeats now and then every third of the TTL. */
  start(): void;
  /** One heartbeat: measures the clock offset and writes this node's record. */
  beat(): Promise<NodeInfo>;
  /** Live nodes, by id. */
  list(): Promise<NodeInfo[]>;
  /** This node's latest offset estimate, undefined until a heartbeat went through. */
  readonly clockOffset: ClockSample | undefined;
  /** Stops heartbeats and removes this node's record, so the others see it leave at once. */
  close(): Promise<void>;
}

export function createNodeRegistry(options: NodeRegistryOptions): NodeRegistry {
  const { redis, nodeId, clock, logger } = options;
  const prefix = options.prefix ?? 'easel:';
  const setKey = `${prefix}nodes`;
  const keyOf = (id: string) => `${prefix}node:${id}`;
  const startedAt = clock.now();
  let offset: ClockSample | undefined;
  let timer: unknown;
  let closed = false;
  let farOff = false;
  let failing = false;

  const measure = async (): Promise<ClockSample> => {
    const samples: ClockSample[] = [];
    for (let i = 0; i < (options.samples ?? 3); i++) {
      const sentAt = clock.now();
      const [seconds, micros] = await redis.time();
      samples.push(clockSample(sentAt, Number(seconds) * 1000 + Number(micros) / 1000, clock.now()));
    }
    return bestSample(samples)!;
  };

  const beat = async (): Promise<NodeInfo> => {
    const sample = await measure();
    offset = sample;
    const tooFar = Math.abs(sample.offsetMs) > MAX_CLOCK_OFFSET_MS;
    if (tooFar !== farOff) {
      farOff = tooFar;
      if (tooFar)
        logger?.warn(
          { nodeId, clockOffsetMs: Math.round(sample.offsetMs) },
          `This node's clock is ${Math.round(sample.offsetMs)} ms off Redis's: screens on other nodes will not change in step; run NTP (chrony) on every node and on the Redis host`,
        );
      else logger?.info({ nodeId, clockOffsetMs: Math.round(sample.offsetMs) }, 'Node clock back in step with Redis');
    }
    const now = clock.now();
    const info: NodeInfo = {
      id: nodeId,
      address: options.address,
      ...options.activity(),
      heartbeatAt: Math.round(now + sample.offsetMs),
      clockOffsetMs: tenths(sample.offsetMs),
      clockErrorMs: tenths(sample.rttMs / 2),
      startedAt: Math.round(startedAt + sample.offsetMs),
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
    get clockOffset() {
      return offset;
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
