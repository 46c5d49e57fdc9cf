import type { Logger } from '../logger.js';

/**
 * How long screens waited when a canvas changed hands (an owner died, or handed it over): the
 * step in screen time (`presentAt`) between the last frame of one lease epoch and the first of
 * the next, as this node showed them. A canvas paused across the change counts its pause too;
 * a node that joined after the last frame of the old epoch has nothing to measure from.
 */
export interface CanvasOwnerChanges {
  /** Changes of hands seen here since start. */
  count: number;
  totalMs: number;
  maxMs: number;
  last?: { gapMs: number; node: string; epoch: number; at: string };
}

export interface OwnerChanges {
  /** A frame of `epoch`, made by `node`, is on this node's screens at `at` (epoch ms, cluster clock). */
  shown(slug: string, epoch: number, at: number, node: string): void;
  readonly stats: ReadonlyMap<string, CanvasOwnerChanges>;
}

export function createOwnerChanges(options: { logger: Logger }): OwnerChanges {
  const log = options.logger;
  const previous = new Map<string, { epoch: number; at: number }>();
  const stats = new Map<string, CanvasOwnerChanges>();

  return {
    shown(slug, epoch, at, node) {
      const before = previous.get(slug);
      if (before && epoch <= before.epoch) {
        previous.set(slug, { epoch: before.epoch, at: Math.max(before.at, at) });
        return;
      }
      previous.set(slug, { epoch, at });
      if (!before) return;
      const gapMs = Math.max(0, at - before.at);
      const entry = stats.get(slug) ?? { count: 0, totalMs: 0, maxMs: 0 };
      entry.count++;
      entry.totalMs += gapMs;
      entry.maxMs = Math.max(entry.maxMs, gapMs);
      entry.last = { gapMs, node, epoch, at: new Date(at).toISOString() };
      stats.set(slug, entry);
      log.info(
        { slug, node, epoch, gapMs },
        `Canvas ${slug} changed hands: node ${node} produces it now (lease epoch ${epoch}); on screens here ${gapMs} ms passed from the last frame before to the first after`,
      );
    },
    stats,
  };
}
