import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { renewIntervalOf } from './lease-keeper.js';
import type { LeaseStore } from './lease.js';

/**
 * Which declared canvases this node produces: it takes free leases up to its share,
 * ceil(canvases / live nodes), and gives back what it holds beyond that share, so a node that
 * joins finds canvases to take. One step per renewal interval.
 */

/** Pure: how many canvases one node should produce. A node that cannot list the others counts itself alone. */
export function shareOf(canvases: number, liveNodes: number): number {
  return Math.ceil(canvases / Math.max(1, liveNodes));
}

/** A small stable hash, so each node tries the free canvases in its own order and nodes rarely race for the same one. */
function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export interface Plan {
  /** Free canvases to try, in order, until the share is reached. */
  tryAcquire: string[];
  /** Held beyond the share: give these back. */
  release: string[];
}

/** Pure: the next step for this node, from the declared canvases, the ones it holds and the live node count. */
export function plan(nodeId: string, declared: readonly string[], held: readonly string[], liveNodes: number): Plan {
  const share = shareOf(declared.length, liveNodes);
  const mine = new Set(held);
  if (mine.size > share) {
    // Give back the ones this node would try last: the order is its own, so this is stable.
    const order = [...held].sort((a, b) => hashOf(`${nodeId}/${a}`) - hashOf(`${nodeId}/${b}`));
    return { tryAcquire: [], release: order.slice(share) };
  }
  const free = declared.filter((slug) => !mine.has(slug)).sort((a, b) => hashOf(`${nodeId}/${a}`) - hashOf(`${nodeId}/${b}`));
  return { tryAcquire: mine.size < share ? free : [], release: [] };
}

export interface PlacementOptions {
  nodeId: string;
  declared: readonly string[];
  leases: LeaseStore;
  keeper: LeaseKeeper;
  /** Live nodes in the cluster, this one included; rejects when Redis cannot be asked. */
  liveNodes: () => Promise<number>;
  clock: Clock;
  /** This node now produces (true) or stops producing (false) the canvas. */
  onChange: (slug: string, producing: boolean) => void;
  logger?: Logger;
}

export interface Placement {
  start(): void;
  /** One step: take or give back leases toward this node's share. */
  step(): Promise<void>;
  close(): Promise<void>;
}

export function createPlacement(options: PlacementOptions): Placement {
  const { nodeId, declared, leases, keeper, clock, onChange, logger } = options;
  let timer: unknown;
  let closed = false;
  let stepping: Promise<void> | undefined;

  const once = async () => {
    const live = await options.liveNodes();
    const held = keeper.held().map((h) => h.slug);
    const next = plan(nodeId, declared, held, live);
    for (const slug of next.release) {
      onChange(slug, false);
      await keeper.drop(slug);
      logger?.info({ slug, nodeId, liveNodes: live }, 'Canvas handed back: another node takes its share');
    }
    let count = held.length;
    const share = shareOf(declared.length, live);
    for (const slug of next.tryAcquire) {
      if (count >= share || closed) break;
      const sentAt = clock.now();
      const got = await leases.acquire(slug);
      if (!got.ok) continue;
      keeper.hold(slug, got.epoch, sentAt);
      count++;
      logger?.info({ slug, nodeId, epoch: got.epoch }, 'Canvas lease taken: this node produces it');
      onChange(slug, true);
    }
  };

  const step = () => {
    stepping ??= once()
      .catch(() => {
        // Redis unreachable: the cluster's state says so; try again next interval.
      })
      .finally(() => {
        stepping = undefined;
      });
    return stepping;
  };

  const tick = () => {
    timer = undefined;
    if (closed) return;
    void step().then(() => {
      if (!closed) timer = clock.setTimeout(tick, renewIntervalOf(leases.leaseMs));
    });
  };

  return {
    start() {
      if (timer === undefined && !closed) tick();
    },
    step,
    async close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await stepping;
    },
  };
}
