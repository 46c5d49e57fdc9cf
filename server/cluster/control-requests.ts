import { randomUUID } from 'node:crypto';
import { EaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { ControlBus, CommandRouterStats } from './command-router.js';
import { encodeControl, errorToWire, type WireReply, type WireRequest } from './control-wire.js';

/**
 * The asking side of commands across nodes: each request waits under its id for the reply on
 * this node's channel, until a timeout, or until the lease of its canvas passes to another node
 * (the one asked will never answer).
 */
export interface RequestsOptions {
  bus: ControlBus;
  nodeId: string;
  clock: Clock;
  logger: Logger;
  ownerOf: (slug: string) => Promise<string | undefined>;
  timeoutMs: number;
  watchMs: number;
  stats: CommandRouterStats;
}

export const redisDown = (err: unknown) =>
  new EaselError(
    'EASEL_ERR_REDIS_UNAVAILABLE',
    'This node cannot reach Redis, so it cannot pass the command to the node producing the canvas',
    {
      hint: 'Send the command to the node that produces the canvas (GET /api/cluster lists them), or start Redis again',
      cause: err,
    },
  );

export function createRequests(options: RequestsOptions) {
  const { bus, nodeId, clock, timeoutMs, watchMs, stats } = options;
  const log = options.logger;
  const pending = new Map<string, { done: (reply: WireReply) => void; timer: unknown }>();

  /** One request to one node: its reply, or 'absent' when nobody listens on its channel. */
  async function ask(to: string, request: Omit<WireRequest, 'kind' | 'id' | 'from'>): Promise<WireReply | 'absent'> {
    const id = randomUUID();
    const message = encodeControl({ kind: 'request', id, from: nodeId, ...request });
    // Waiting before sending: a fast reply must find its request.
    const reply = new Promise<WireReply>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        pending.delete(id);
        stats.timedOut++;
        log.warn(
          { slug: request.slug, op: request.op, node: to, timeoutMs },
          `Node ${to} did not answer a forwarded command in ${timeoutMs} ms`,
        );
        reject(
          new EaselError(
            'EASEL_ERR_NODE_TIMEOUT',
            `Node "${to}" did not answer within ${timeoutMs} ms; the command may still be carried out`,
            {
              hint: 'Check the canvas (GET /api/canvases/:slug) before sending the command again; /api/cluster shows whether that node is alive',
              details: { node: to, ...(request.slug ? { slug: request.slug } : {}) },
            },
          ),
        );
      }, timeoutMs);
      pending.set(id, { done: resolve, timer });
    });
    reply.catch(() => undefined);
    let listening: number;
    try {
      listening = await bus.send(to, message);
    } catch (err) {
      clock.clearTimeout(pending.get(id)?.timer);
      pending.delete(id);
      throw redisDown(err);
    }
    if (listening === 0) {
      clock.clearTimeout(pending.get(id)?.timer);
      pending.delete(id);
      return 'absent';
    }
    stats.forwarded++;
    const slug = request.slug;
    if (slug === undefined) return reply;
    // The subscription of an owner that lost power lives on in Redis until TCP gives up on it,
    // so a request can go to nobody: the lease passing to another node (or none) says so.
    let tick: unknown;
    const abandoned = new Promise<'absent'>((resolve) => {
      const check = () => {
        tick = clock.setTimeout(async () => {
          const holder = await options.ownerOf(slug).catch(() => to);
          const waiting = pending.get(id);
          if (!waiting) return;
          if (holder === to) return check();
          clock.clearTimeout(waiting.timer);
          pending.delete(id);
          resolve('absent');
        }, watchMs);
      };
      check();
    });
    try {
      return await Promise.race([reply, abandoned]);
    } finally {
      clock.clearTimeout(tick);
    }
  }

  return {
    ask,
    /** Hands a reply to its request; false when none waits for it (late, or never asked). */
    answer(reply: WireReply): boolean {
      const waiting = pending.get(reply.id);
      if (!waiting) return false;
      pending.delete(reply.id);
      clock.clearTimeout(waiting.timer);
      waiting.done(reply);
      return true;
    },
    /** Every request still waiting is answered: the server is shutting down. */
    close() {
      const closing = new EaselError('EASEL_ERR_SERVER_CLOSING', 'The server is shutting down', { hint: 'Try again once it is back' });
      for (const [id, waiting] of pending) {
        clock.clearTimeout(waiting.timer);
        waiting.done({ kind: 'reply', id, from: nodeId, ok: false, error: errorToWire(closing) });
      }
      pending.clear();
    },
  };
}
