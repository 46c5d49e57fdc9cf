import { randomUUID } from 'node:crypto';
import { EaselError } from '../errors.js';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { createRequests, redisDown } from './control-requests.js';
import {
  ControlMessageError,
  decodeControl,
  encodeControl,
  errorFromWire,
  errorToWire,
  MAX_CONTROL_BYTES,
  type RemoteOp,
  type WireReply,
  type WireRequest,
} from './control-wire.js';

/**
 * Request and reply between nodes. A command on a canvas this node does not produce goes to the
 * node holding the canvas's lease, on that node's own channel, with an id; the owner carries it
 * out with its ordinary commands and answers on the asker's channel with the result or the
 * EaselError, which the asker throws as its own, so an HTTP or OSC caller hears what a single
 * server would say. While no node holds the canvas (a failover) the asker waits about a lease
 * for one, then answers 503.
 */

/** What the router needs of Redis (a fake in unit tests). */
export interface ControlBus {
  /** Publishes on one node's channel; resolves with how many listened (0: that node is not there). */
  send(nodeId: string, message: string): Promise<number>;
  /** Image bytes for a request, kept `ttlMs` or until taken. */
  putBlob(key: string, data: Buffer, ttlMs: number): Promise<void>;
  /** Reads and deletes them; undefined when gone. */
  takeBlob(key: string): Promise<Buffer | undefined>;
  /** False while this node's channel is not subscribed (starting, Redis down): no reply could reach it. */
  listening?(): boolean;
}

export interface RemoteRequest {
  op: RemoteOp;
  slug: string | undefined;
  args: unknown[];
  blob: Buffer | undefined;
}

export interface CommandRouterStats {
  /** Commands this node sent to another node. */
  forwarded: number;
  /** Commands this node carried out for another node. */
  served: number;
  /** Waits for a canvas no node held (a failover or handover), and those that ended in 503. */
  waited: number;
  moving: number;
  timedOut: number;
  /** Messages counted and ignored: unreadable, over the size limit, or a reply nobody waits for. */
  refused: { malformed: number; oversized: number; unknownReply: number };
}

export interface CommandRouterOptions {
  bus: ControlBus;
  nodeId: string;
  clock: Clock;
  logger: Logger;
  /** The node holding the canvas's lease now (Redis); undefined when none does. */
  ownerOf: (slug: string) => Promise<string | undefined>;
  /** Whether this node produces the canvas now (it holds the lease by its own clock). */
  producedHere: (slug: string) => boolean;
  /** How long a command waits for a canvas that no node holds before it is answered 503. */
  ownerWaitMs: number;
  /** How long the other node may take to answer. Default 10 s. */
  timeoutMs?: number;
}

export interface CommandRouter {
  /** Runs `local` when this node produces the canvas, else has its owner carry out `op`. */
  onCanvas<T>(slug: string, op: RemoteOp, args: unknown[], local: () => T | Promise<T>, blob?: Buffer): Promise<T>;
  /** Has one given node carry out `op` (a job's command goes to the node that holds the job); 'absent' when it is not there. */
  onNode<T>(nodeId: string, op: RemoteOp, args: unknown[]): Promise<T | 'absent'>;
  /** How this node carries out another node's request (set once its commands exist). */
  serve(handler: (request: RemoteRequest) => Promise<unknown>): void;
  /** A message arrived on this node's channel. Never throws. */
  receive(message: Buffer): void;
  readonly stats: Readonly<CommandRouterStats>;
  close(): void;
}

const DEFAULT_TIMEOUT_MS = 10_000;

export function createCommandRouter(options: CommandRouterOptions): CommandRouter {
  const { bus, nodeId, clock, ownerWaitMs } = options;
  const log = options.logger.child({ component: 'commands' });
  const limiter = createLogLimiter({ now: () => clock.now() });
  const stats: CommandRouterStats = {
    forwarded: 0,
    served: 0,
    waited: 0,
    moving: 0,
    timedOut: 0,
    refused: { malformed: 0, oversized: 0, unknownReply: 0 },
  };
  let handler: ((request: RemoteRequest) => Promise<unknown>) | undefined;
  let closed = false;
  const pollMs = Math.max(20, Math.min(200, Math.floor(ownerWaitMs / 10)));
  const sleep = (ms: number) => new Promise<void>((resolve) => clock.setTimeout(resolve, ms));

  const requests = createRequests({
    bus,
    nodeId,
    clock,
    logger: log,
    ownerOf: options.ownerOf,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    // How often the lease is read while a reply is awaited.
    watchMs: Math.max(100, Math.floor(ownerWaitMs / 5)),
    stats,
  });
  const { ask } = requests;

  const resultOf = <T>(reply: WireReply): T => {
    if ('moved' in reply) throw new Error('unreachable: moved');
    if (reply.ok) return reply.result as T;
    throw errorFromWire(reply.error);
  };

  async function onCanvas<T>(slug: string, op: RemoteOp, args: unknown[], local: () => T | Promise<T>, image?: Buffer): Promise<T> {
    let waitingSince: number | undefined;
    let blob: string | undefined;
    for (;;) {
      if (options.producedHere(slug)) return local();
      let owner: string | undefined;
      try {
        owner = await options.ownerOf(slug);
      } catch (err) {
        throw redisDown(err);
      }
      if (owner !== undefined && owner !== nodeId) {
        if (bus.listening?.() === false) throw redisDown(new Error('this node is not listening for replies yet'));
        if (image && blob === undefined) {
          blob = `${nodeId}:${randomUUID()}`;
          try {
            await bus.putBlob(blob, image, ownerWaitMs + (options.timeoutMs ?? DEFAULT_TIMEOUT_MS));
          } catch (err) {
            throw redisDown(err);
          }
        }
        const reply = await ask(owner, { op, slug, args, ...(blob ? { blob } : {}) });
        if (reply !== 'absent' && !('moved' in reply)) {
          if (waitingSince !== undefined)
            log.info(
              { slug, op, node: owner, waitedMs: Math.round(clock.now() - waitingSince) },
              `Command waited for canvas "${slug}" to move to node ${owner}`,
            );
          return resultOf<T>(reply);
        }
      }
      // Nobody holds it, its holder is gone, or it just moved: a new owner takes it within about a lease.
      if (waitingSince === undefined) {
        waitingSince = clock.now();
        stats.waited++;
      }
      if (clock.now() - waitingSince >= ownerWaitMs) {
        stats.moving++;
        const seconds = Math.max(1, Math.ceil(ownerWaitMs / 1000));
        throw new EaselError('EASEL_ERR_CANVAS_MOVING', `No node produces canvas "${slug}" right now: it is moving to another node`, {
          hint: `Send the command again in ${seconds} s; GET /api/cluster shows the nodes and the canvases each produces`,
          details: { slug, retryAfterSeconds: seconds },
        });
      }
      await sleep(pollMs);
    }
  }

  async function serveRequest(request: WireRequest): Promise<void> {
    let reply: WireReply;
    if (request.slug !== undefined && !options.producedHere(request.slug)) {
      reply = { kind: 'reply', id: request.id, from: nodeId, moved: true };
    } else if (!handler) {
      reply = { kind: 'reply', id: request.id, from: nodeId, moved: true };
    } else {
      stats.served++;
      try {
        const blob = request.blob === undefined ? undefined : await bus.takeBlob(request.blob);
        if (request.blob !== undefined && blob === undefined) throw new Error('The image sent with the command was gone from Redis');
        const result = await handler({ op: request.op, slug: request.slug, args: request.args, blob });
        reply = { kind: 'reply', id: request.id, from: nodeId, ok: true, result };
      } catch (err) {
        reply = { kind: 'reply', id: request.id, from: nodeId, ok: false, error: errorToWire(err) };
      }
    }
    let text: string;
    try {
      text = encodeControl(reply);
    } catch (err) {
      text = encodeControl({ kind: 'reply', id: request.id, from: nodeId, ok: false, error: errorToWire(err) });
    }
    // A lost answer is the asker's timeout; nothing here to undo.
    await bus.send(request.from, text).catch(() => undefined);
  }

  return {
    onCanvas,
    async onNode<T>(to: string, op: RemoteOp, args: unknown[]): Promise<T | 'absent'> {
      const reply = await ask(to, { op, args });
      if (reply === 'absent' || 'moved' in reply) return 'absent';
      return resultOf<T>(reply);
    },
    serve(h) {
      handler = h;
    },
    receive(raw) {
      if (closed) return;
      let message: ReturnType<typeof decodeControl>;
      try {
        message = decodeControl(raw);
      } catch (err) {
        const oversized = raw.length > MAX_CONTROL_BYTES;
        stats.refused[oversized ? 'oversized' : 'malformed']++;
        const leftOut = limiter.take(oversized ? 'control-oversized' : 'control-malformed');
        const reason = err instanceof ControlMessageError ? err.message : String(err);
        if (leftOut !== undefined) log.warn({ bytes: raw.length, reason, leftOut }, 'Control message from Redis ignored');
        return;
      }
      if (message.kind === 'reply') {
        if (!requests.answer(message)) stats.refused.unknownReply++;
        return;
      }
      void serveRequest(message).catch((err: unknown) =>
        log.error({ err, op: message.op, slug: message.slug }, 'Forwarded command failed'),
      );
    },
    get stats() {
      return stats;
    },
    close() {
      closed = true;
      requests.close();
    },
  };
}
