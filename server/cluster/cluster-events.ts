import type { EaselEvent, EventBus } from '../control/events.js';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';

/**
 * The whole cluster's events on every node's bus. Each node publishes what its own bus hears
 * to one Redis channel, with its id; every other node emits it on its bus with `node` set, so
 * `/api/events` anywhere tells what happened everywhere. An event from Redis is never sent
 * back out (no echo), and a node's own events come back from Redis only to be dropped (no
 * duplicate). A node that merely shows a canvas another node produces keeps its copy's state
 * changes to itself: the owner's are the ones that count.
 */

export interface EventsBus {
  publishEvent(message: string): Promise<unknown>;
}

export interface ClusterEventsStats {
  published: number;
  publishFailed: number;
  received: number;
  /** Emitted on this node's bus (from other nodes). */
  emitted: number;
  refused: { malformed: number; oversized: number; own: number };
}

export interface ClusterEventsOptions {
  bus: EventsBus;
  events: EventBus;
  nodeId: string;
  clock: Clock;
  logger: Logger;
  /** Whether an event is for the rest of the cluster (false: a copy's state change, see above). */
  shareable: (event: EaselEvent) => boolean;
}

export interface ClusterEvents {
  /** True for an event that came from another node. */
  isRemote(event: EaselEvent): boolean;
  /** A message arrived on the events channel. Never throws. */
  receive(message: Buffer): void;
  readonly stats: Readonly<ClusterEventsStats>;
  close(): void;
}

/** An event larger than this is neither published nor read (events are a few hundred bytes). */
export const MAX_EVENT_BYTES = 64 * 1024;
const TYPES = new Set(['canvas', 'command', 'job', 'playlist', 'display', 'source']);

export function createClusterEvents(options: ClusterEventsOptions): ClusterEvents {
  const { bus, events, nodeId } = options;
  const log = options.logger.child({ component: 'events' });
  const limiter = createLogLimiter({ now: () => options.clock.now() });
  const remote = new WeakSet<EaselEvent>();
  const stats: ClusterEventsStats = {
    published: 0,
    publishFailed: 0,
    received: 0,
    emitted: 0,
    refused: { malformed: 0, oversized: 0, own: 0 },
  };
  let failing = false;

  const refuse = (reason: 'malformed' | 'oversized', bytes: number) => {
    stats.refused[reason]++;
    const leftOut = limiter.take(`event-${reason}`);
    if (leftOut !== undefined) log.warn({ reason, bytes, leftOut }, `Cluster event from Redis ignored (${reason})`);
  };

  const stop = events.subscribe((event) => {
    if (remote.has(event) || !options.shareable(event)) return;
    let text: string;
    try {
      text = JSON.stringify({ node: nodeId, event });
    } catch {
      return;
    }
    if (Buffer.byteLength(text) > MAX_EVENT_BYTES) return;
    bus.publishEvent(text).then(
      () => {
        stats.published++;
        failing = false;
      },
      (err: unknown) => {
        stats.publishFailed++;
        if (!failing) log.warn({ err: String(err) }, 'Events not sent to other nodes: Redis does not take them');
        failing = true;
      },
    );
  });

  return {
    isRemote: (event) => remote.has(event),
    receive(message) {
      stats.received++;
      if (message.length > MAX_EVENT_BYTES) return refuse('oversized', message.length);
      let parsed: { node?: unknown; event?: unknown };
      try {
        parsed = JSON.parse(message.toString()) as typeof parsed;
      } catch {
        return refuse('malformed', message.length);
      }
      const event = parsed?.event as (Record<string, unknown> & { type?: unknown }) | undefined;
      if (typeof parsed?.node !== 'string' || typeof event !== 'object' || event === null || !TYPES.has(event.type as string))
        return refuse('malformed', message.length);
      if (parsed.node === nodeId) {
        stats.refused.own++;
        return;
      }
      const tagged = { ...event, node: parsed.node } as unknown as EaselEvent;
      remote.add(tagged);
      stats.emitted++;
      events.emit(tagged);
    },
    get stats() {
      return stats;
    },
    close: stop,
  };
}
