import type { Redis } from 'ioredis';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { LeaseKeeper } from './lease-keeper.js';

/**
 * Planned handover: a node giving a canvas away because another node joined (placement) hands
 * its lease straight to that node instead of releasing it and waiting for the other's next
 * placement step. Right after a frame, with the canvas's state written, the giver transfers the
 * lease in Redis (its own epoch dies there, so fencing holds) and tells the taker on the taker's
 * channel, `<prefix>handover:<nodeId>`, when its next slot falls; the taker adopts the lease,
 * restores the state and starts producing at that slot, one frame period after the giver's
 * last. A taker that never hears finds the lease is its own at its next placement step (or lets
 * it run out, and the canvas is placed again): never longer without a producer than a release.
 */

/** A notice is a few short fields: anything larger is not one. */
export const MAX_NOTICE_BYTES = 1024;

export interface HandoverNotice {
  slug: string;
  /** The taker's epoch, set by the transfer. */
  epoch: number;
  from: string;
  /** When the canvas's next slot falls on the cluster clock (the giver's cadence), or null. */
  nextSlotAt: number | null;
}

export class HandoverNoticeError extends Error {}

export function encodeNotice(notice: HandoverNotice): string {
  return JSON.stringify({ kind: 'handover', ...notice });
}

const isName = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

/** Throws HandoverNoticeError for anything that is not a whole notice about one of `declared`. */
export function decodeNotice(raw: Buffer, declared: ReadonlySet<string>): HandoverNotice {
  if (raw.length > MAX_NOTICE_BYTES) throw new HandoverNoticeError(`${raw.length} bytes is over the limit of ${MAX_NOTICE_BYTES}`);
  let m: Record<string, unknown>;
  try {
    m = JSON.parse(raw.toString()) as Record<string, unknown>;
  } catch {
    throw new HandoverNoticeError('not JSON');
  }
  if (typeof m !== 'object' || m === null || m.kind !== 'handover') throw new HandoverNoticeError('not a handover notice');
  if (!isName(m.slug) || !declared.has(m.slug)) throw new HandoverNoticeError('no declared canvas');
  if (!Number.isSafeInteger(m.epoch) || (m.epoch as number) <= 0) throw new HandoverNoticeError('epoch is not a positive integer');
  if (!isName(m.from)) throw new HandoverNoticeError('no sender');
  if (m.nextSlotAt !== null && !Number.isFinite(m.nextSlotAt)) throw new HandoverNoticeError('nextSlotAt is not a time');
  return { slug: m.slug, epoch: m.epoch as number, from: m.from, nextSlotAt: m.nextSlotAt as number | null };
}

/** What the handover needs of Redis (a fake in unit tests). */
export interface HandoverBus {
  /** Resolves with how many nodes listened (0: the taker does not, yet). */
  send(nodeId: string, message: string): Promise<number>;
  /** Whether the node's heartbeat is in the registry (nodes.ts): one that stopped cleanly is gone at once. */
  isLive(nodeId: string): Promise<boolean>;
  listen(onNotice: (message: Buffer) => void): void;
  close(): void;
}

export function createRedisHandoverBus(redis: Redis, nodeId: string, prefix = 'easel:'): HandoverBus {
  const channel = (node: string) => `${prefix}handover:${node}`;
  // As the relay's: waits for the connection, no command timeout, subscribes again at every (re)connection.
  const subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
  subscriber.on('error', () => undefined); // the main connection says what is wrong
  return {
    send: (node, message) => redis.publish(channel(node), message),
    isLive: async (node) => (await redis.exists(`${prefix}node:${node}`)) === 1,
    listen(onNotice) {
      const mine = channel(nodeId);
      subscriber.on('messageBuffer', (name: Buffer, message: Buffer) => {
        if (name.toString() === mine) onNotice(message);
      });
      const subscribe = () => void subscriber.subscribe(mine).catch(() => undefined);
      subscriber.on('ready', subscribe);
      if (subscriber.status === 'ready') subscribe();
    },
    close: () => subscriber.disconnect(),
  };
}

export interface HandoverStats {
  /** Leases handed straight to another node, and those whose taker did not hear the notice. */
  given: number;
  unheard: number;
  /** Transfers Redis refused (the lease was no longer this node's). */
  refused: number;
  /** Leases this node took from a notice. */
  adopted: number;
  /** Notices ignored: unreadable, or about a lease that is not this node's with that epoch. */
  ignored: { malformed: number; stale: number };
}

export interface HandoverOptions {
  bus: HandoverBus;
  keeper: LeaseKeeper;
  nodeId: string;
  declared: readonly string[];
  clock: Clock;
  logger: Logger;
  /** Waits for the canvas's next frame (bounded) and writes its state; resolves with its next slot (cluster time), if known. */
  prepare: (slug: string) => Promise<number | undefined>;
  /** This node now produces the canvas, from `startAt` (cluster time) if given, or stops producing it. */
  onChange: (slug: string, producing: boolean, startAt?: number) => void;
}

export interface Handover {
  /**
   * Hands a canvas this node produces to node `to`; false (nothing done: the caller releases it)
   * when the lease is not held, or `to` is gone from the registry (a lease handed to a dead node
   * would wait a whole lease length).
   */
  give(slug: string, to: string): Promise<boolean>;
  /** Takes notices from now on (once this node may produce: its clock is known). */
  listen(): void;
  receive(message: Buffer): Promise<void>;
  readonly stats: Readonly<HandoverStats>;
  close(): void;
}

export function createHandover(options: HandoverOptions): Handover {
  const { bus, keeper, nodeId, onChange } = options;
  const declared = new Set(options.declared);
  const log = options.logger.child({ component: 'handover', nodeId });
  const limiter = createLogLimiter({ now: () => options.clock.now() });
  const stats: HandoverStats = { given: 0, unheard: 0, refused: 0, adopted: 0, ignored: { malformed: 0, stale: 0 } };
  let closed = false;

  const holds = (slug: string) => keeper.held().some((h) => h.slug === slug) && !keeper.islanded(slug);

  const handover: Handover = {
    async give(slug, to) {
      if (!holds(slug) || !(await bus.isLive(to).catch(() => false))) return false;
      const nextSlotAt = await options.prepare(slug).catch(() => undefined);
      if (!holds(slug) || closed) return false;
      // Both at once, before any other slot: nothing more is published here with this epoch.
      const transferring = keeper.transfer(slug, to);
      onChange(slug, false);
      const epoch = await transferring;
      if (epoch === undefined) {
        stats.refused++;
        log.warn({ slug, to }, 'Canvas not handed over: its lease was no longer this node’s (or Redis did not answer); it is placed again');
        return true;
      }
      stats.given++;
      const notice = encodeNotice({ slug, epoch, from: nodeId, nextSlotAt: nextSlotAt ?? null });
      const heard = await bus.send(to, notice).catch(() => 0);
      if (heard === 0) stats.unheard++;
      log.info(
        { slug, to, epoch, nextSlotAt, heard: heard > 0 },
        heard > 0
          ? `Canvas handed over to node ${to}`
          : `Canvas handed over to node ${to}, which did not hear it yet: it finds the lease at its next placement step`,
      );
      return true;
    },

    listen() {
      if (!closed) bus.listen((message) => void handover.receive(message));
    },

    async receive(message) {
      let notice: HandoverNotice;
      try {
        notice = decodeNotice(message, declared);
      } catch (err) {
        stats.ignored.malformed++;
        const leftOut = limiter.take('handover-malformed');
        if (leftOut !== undefined)
          log.warn({ leftOut, reason: (err as Error).message, bytes: message.length }, 'Handover notice ignored: unreadable');
        return;
      }
      const { slug, epoch, from, nextSlotAt } = notice;
      if (closed || !(await keeper.adopt(slug, epoch))) {
        // Not ours with that epoch (anymore), or held already (found by placement first): nothing to do.
        if (!holds(slug)) stats.ignored.stale++;
        return;
      }
      stats.adopted++;
      log.info({ slug, epoch, from, nextSlotAt }, `Canvas taken over from node ${from} by handover: this node produces it`);
      onChange(slug, true, nextSlotAt ?? undefined);
    },

    get stats() {
      return stats;
    },

    close() {
      closed = true;
      bus.close();
    },
  };
  return handover;
}
