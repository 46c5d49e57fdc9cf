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

/**
 * Pure: when the next placement step runs. Normally one renewal interval on; but a lease another
 * node holds that runs out before then has missed two renewals (its owner died or froze), so the
 * step runs the moment it expires and the canvas is taken without waiting out the interval.
 */
export function nextStepDelay(intervalMs: number, expiringMs: readonly number[]): number {
  const soonest = Math.min(intervalMs, ...expiringMs.filter((ms) => ms >= 0).map((ms) => ms + EXPIRY_MARGIN_MS));
  return Math.max(1, soonest);
}
/** After the lease's own end, so Redis has expired it when the step asks. */
const EXPIRY_MARGIN_MS = 5;

/** A live node and how many canvases it produces (from its last heartbeat). */
export interface PeerLoad {
  id: string;
  canvases: number;
}

/**
 * Pure: the node each canvas in `giving` goes to in a planned handover: the live node other than
 * this one with the fewest canvases, counting those handed to it in this step, while it is below
 * its share (ties to the smaller id). A canvas with no such node is absent: it is released.
 */
export function chooseTargets(nodeId: string, giving: readonly string[], peers: readonly PeerLoad[], share: number): Map<string, string> {
  const load = new Map(peers.filter((p) => p.id !== nodeId).map((p) => [p.id, p.canvases]));
  const targets = new Map<string, string>();
  for (const slug of giving) {
    let best: string | undefined;
    for (const [id, count] of load)
      if (count < share && (best === undefined || count < load.get(best)! || (count === load.get(best)! && id < best))) best = id;
    if (best === undefined) continue;
    targets.set(slug, best);
    load.set(best, load.get(best)! + 1);
  }
  return targets;
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
  /**
   * Planned handover (handover.ts): the live nodes as `liveNodes` last listed them, and how a
   * canvas is given straight to one of them (false: not held, nothing done). Without it, a
   * canvas beyond the share is released for the others to take.
   */
  handover?: { peers: () => readonly PeerLoad[]; give: (slug: string, to: string) => Promise<boolean> };
  logger?: Logger;
}

export interface Placement {
  start(): void;
  /** One step: take or give back leases toward this node's share. */
  step(): Promise<void>;
  /**
   * This node is stopping cleanly: each canvas it produces is handed straight to another live
   * node (placement stops first, so none is taken back); what cannot be handed over is left
   * to `close`, which releases it. Resolves with how many were handed over.
   */
  leave(): Promise<number>;
  close(): Promise<void>;
}

export function createPlacement(options: PlacementOptions): Placement {
  const { nodeId, declared, leases, keeper, clock, onChange, logger } = options;
  let timer: unknown;
  let closed = false;
  let stepping: Promise<void> | undefined;
  /** Remaining ms of other nodes' leases on canvases this node tried to take in the last step. */
  let expiring: number[] = [];

  const once = async () => {
    const live = await options.liveNodes();
    const held = keeper.held().map((h) => h.slug);
    const next = plan(nodeId, declared, held, live);
    const share = shareOf(declared.length, live);
    const targets = options.handover ? chooseTargets(nodeId, next.release, options.handover.peers(), share) : new Map<string, string>();
    // In parallel: each handover waits for its canvas's next frame.
    await Promise.all(
      next.release.map(async (slug) => {
        const to = targets.get(slug);
        if (to !== undefined && (await options.handover!.give(slug, to))) return;
        if (!keeper.held().some((h) => h.slug === slug)) return;
        onChange(slug, false);
        await keeper.drop(slug);
        logger?.info({ slug, nodeId, liveNodes: live }, 'Canvas handed back: another node takes its share');
      }),
    );
    let count = held.length - next.release.length;
    expiring = [];
    for (const slug of next.tryAcquire) {
      if (count >= share || closed) break;
      const sentAt = clock.now();
      const got = await leases.acquire(slug);
      if (!got.ok) {
        if (got.owner !== nodeId) {
          expiring.push(got.remainingMs);
          continue;
        }
        // Handed to this node by a notice it did not hear (or not yet): adopted like one acquired.
        if (!(await keeper.adopt(slug, got.epoch))) continue;
        logger?.info({ slug, nodeId, epoch: got.epoch }, 'Canvas lease handed to this node found: this node produces it');
      } else {
        keeper.hold(slug, got.epoch, sentAt);
        logger?.info({ slug, nodeId, epoch: got.epoch }, 'Canvas lease taken: this node produces it');
      }
      count++;
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
      if (!closed) timer = clock.setTimeout(tick, nextStepDelay(renewIntervalOf(leases.leaseMs), expiring));
    });
  };

  return {
    start() {
      if (timer === undefined && !closed) tick();
    },
    step,
    async leave() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await stepping;
      const handover = options.handover;
      const held = keeper.held().map((h) => h.slug);
      const others = (handover?.peers() ?? []).filter((p) => p.id !== nodeId);
      if (!handover || held.length === 0 || others.length === 0) return 0;
      const targets = chooseTargets(nodeId, held, others, shareOf(declared.length, others.length));
      const given = await Promise.all([...targets].map(([slug, to]) => handover.give(slug, to).catch(() => false)));
      const count = given.filter(Boolean).length;
      logger?.info(
        { nodeId, handedOver: count, held: held.length },
        `Stopping: ${count} of ${held.length} canvases handed over to other nodes`,
      );
      return count;
    },
    async close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
      await stepping;
    },
  };
}
