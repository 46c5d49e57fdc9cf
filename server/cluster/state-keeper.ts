import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { SharedCanvasState } from './shared-canvas-state.js';
import type { SharedStateStore } from './shared-state-store.js';

/**
 * The owner's side of shared state: writes each canvas it produces to Redis soon after a change
 * (changeDelayMs, so a burst of commands is one write and a kill -9 loses at most that much), and
 * at most once per frameDelayMs while frames flow (the last seq and presentAt, and the view other
 * nodes answer the API with). Writes of one canvas never overlap; a failed one is tried again.
 */

/** What the owner keeps of a canvas now: everything but who wrote it. */
export interface Collected {
  state: Omit<SharedCanvasState, 'version' | 'node' | 'epoch' | 'savedAt'>;
  view: Record<string, unknown>;
  /** The bytes of the still the state holds, if it holds one. */
  still?: { imageId: string; data: Buffer };
}

export interface StateKeeperOptions {
  store: SharedStateStore;
  nodeId: string;
  clock: Clock;
  logger: Logger;
  /** The epoch of the lease this node holds for the canvas now; undefined when it holds none. */
  epochOf: (slug: string) => number | undefined;
  /** The canvases this node produces now. */
  held: () => string[];
  collect: (slug: string) => Collected | undefined;
  changeDelayMs?: number;
  frameDelayMs?: number;
}

export interface StateKeeper {
  /** State of a canvas (or, without a slug, of every canvas this node produces) changed. */
  changed(slug?: string): void;
  /** A canvas showed a frame. */
  frame(slug: string): void;
  /** Writes a canvas now (after any write in flight). */
  flush(slug: string): Promise<void>;
  /** Canvases written since start, and writes Redis refused or failed. */
  readonly stats: { written: number; fenced: number; failed: number };
  close(): void;
}

interface Slot {
  timer: unknown;
  dueAt: number;
  writing?: Promise<void>;
  again: boolean;
  /** `${epoch}/${imageId}` of the still bytes last written, so they are written once per owner. */
  still?: string;
}

export function createStateKeeper(options: StateKeeperOptions): StateKeeper {
  const { store, clock, nodeId } = options;
  const log = options.logger.child({ component: 'shared-state' });
  const changeDelayMs = options.changeDelayMs ?? 100;
  const frameDelayMs = options.frameDelayMs ?? 1000;
  const slots = new Map<string, Slot>();
  const stats = { written: 0, fenced: 0, failed: 0 };
  let failing = false;
  let closed = false;

  const slotOf = (slug: string): Slot => {
    const slot = slots.get(slug) ?? { timer: undefined, dueAt: Infinity, again: false };
    slots.set(slug, slot);
    return slot;
  };

  const schedule = (slug: string, delayMs: number) => {
    if (closed || options.epochOf(slug) === undefined) return;
    const slot = slotOf(slug);
    if (slot.writing) {
      slot.again = true;
      return;
    }
    const dueAt = clock.now() + delayMs;
    if (slot.timer !== undefined && slot.dueAt <= dueAt) return;
    if (slot.timer !== undefined) clock.clearTimeout(slot.timer);
    slot.dueAt = dueAt;
    slot.timer = clock.setTimeout(() => {
      slot.timer = undefined;
      void write(slug);
    }, delayMs);
  };

  const attempt = async (slug: string, slot: Slot): Promise<void> => {
    const epoch = options.epochOf(slug);
    const collected = epoch === undefined ? undefined : options.collect(slug);
    if (epoch === undefined || !collected) return;
    try {
      const still = collected.still;
      const stillKey = still && `${epoch}/${still.imageId}`;
      if (still && slot.still !== stillKey) {
        if (!(await store.writeStill(slug, epoch, still.imageId, still.data))) return void stats.fenced++;
        slot.still = stillKey;
      }
      const state: SharedCanvasState = { version: 1, node: nodeId, epoch, savedAt: Math.round(clock.now()), ...collected.state };
      const view = { ...collected.view, producedBy: nodeId, sharedAt: new Date(clock.now()).toISOString() };
      if (!(await store.write(slug, epoch, JSON.stringify(state), JSON.stringify(view)))) return void stats.fenced++;
      stats.written++;
      if (failing) log.info('Canvas state is kept in Redis again');
      failing = false;
    } catch (err) {
      stats.failed++;
      // Said once per outage: the cluster says Redis is down; this says what it costs.
      if (!failing)
        log.warn({ slug, err: String(err) }, 'Canvas state not kept in Redis: a node taking this canvas over now starts it as declared');
      failing = true;
      slot.again = true;
    }
  };

  const write = (slug: string): Promise<void> => {
    const slot = slotOf(slug);
    if (slot.writing) {
      slot.again = true;
      return slot.writing;
    }
    slot.again = false;
    slot.writing = attempt(slug, slot).finally(() => {
      slot.writing = undefined;
      // A change during the write is written next; a failure waits a frame interval.
      if (slot.again) schedule(slug, failing ? frameDelayMs : changeDelayMs);
    });
    return slot.writing;
  };

  return {
    changed(slug) {
      const slugs = slug === undefined ? options.held() : [slug];
      for (const s of slugs) schedule(s, changeDelayMs);
    },
    frame(slug) {
      schedule(slug, frameDelayMs);
    },
    async flush(slug) {
      await slots.get(slug)?.writing;
      const slot = slotOf(slug);
      if (slot.timer !== undefined) clock.clearTimeout(slot.timer);
      slot.timer = undefined;
      await write(slug);
    },
    stats,
    close() {
      closed = true;
      for (const slot of slots.values()) if (slot.timer !== undefined) clock.clearTimeout(slot.timer);
      slots.clear();
    },
  };
}
