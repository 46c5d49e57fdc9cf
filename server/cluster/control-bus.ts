import { Redis } from 'ioredis';
import { reconnectDelayMs } from './redis.js';
import type { ControlBus } from './command-router.js';
import type { EventsBus } from './cluster-events.js';
import type { JobStore } from './cluster-jobs.js';

/**
 * Commands, events and jobs on a real Redis, on connections of their own: an image on its way
 * to the owner must not hold up a lease renewal on the cluster's connection, and a subscribed
 * connection takes no other command.
 *
 * Keys and channels (prefix `easel:`): `control:<nodeId>` each node's requests and replies,
 * `events` every node's events, `blob:<id>` an image on its way (gone once read, else after the
 * command's time), `job:<id>` a job's last snapshot (a day).
 */
export interface RedisControlBus extends ControlBus, EventsBus, JobStore {
  /** Starts listening: `onControl` for this node's channel, `onEvent` for the events channel. */
  listen(onControl: (message: Buffer) => void, onEvent: (message: Buffer) => void): void;
  close(): void;
}

/** Images of up to render.maxFileBytes (64 MiB by default) cross this connection. */
const COMMAND_TIMEOUT_MS = 10_000;

export function createRedisControlBus(url: string, nodeId: string, prefix = 'easel:'): RedisControlBus {
  // Unlike the lease connection, a command sent while it is still connecting waits for it (a
  // node just started); once it is down, commands fail at the first failed reconnection.
  const redis = new Redis(url, {
    enableOfflineQueue: true,
    maxRetriesPerRequest: 0,
    commandTimeout: COMMAND_TIMEOUT_MS,
    connectTimeout: COMMAND_TIMEOUT_MS,
    retryStrategy: reconnectDelayMs,
    showFriendlyErrorStack: false,
  });
  // The cluster's own connection says once when Redis is down; these stay quiet.
  redis.on('error', () => undefined);
  // Subscribes again at every (re)connection; waits for it rather than failing.
  // No command timeout: ioredis takes `commandTimeout: 0` as a timeout of 0 ms, failing every SUBSCRIBE at once.
  const subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
  subscriber.on('error', () => undefined);
  const controlChannel = (node: string) => `${prefix}control:${node}`;
  const eventsChannel = `${prefix}events`;
  const mine = controlChannel(nodeId);
  let listening = false;
  subscriber.on('close', () => {
    listening = false;
  });

  return {
    send: (node, message) => redis.publish(controlChannel(node), message),
    listening: () => listening,
    async putBlob(key, data, ttlMs) {
      await redis.set(`${prefix}blob:${key}`, data, 'PX', ttlMs);
    },
    async takeBlob(key) {
      return (await redis.getdelBuffer(`${prefix}blob:${key}`)) ?? undefined;
    },
    publishEvent: (message) => redis.publish(eventsChannel, message),
    async putJob(id, value, ttlMs) {
      await redis.set(`${prefix}job:${id}`, value, 'PX', ttlMs);
    },
    async getJob(id) {
      return (await redis.get(`${prefix}job:${id}`)) ?? undefined;
    },
    listen(onControl, onEvent) {
      subscriber.on('messageBuffer', (channel: Buffer, message: Buffer) => {
        const name = channel.toString();
        if (name === mine) onControl(message);
        else if (name === eventsChannel) onEvent(message);
      });
      const subscribe = () =>
        void subscriber.subscribe(mine, eventsChannel).then(
          () => {
            listening = true;
          },
          () => undefined,
        );
      subscriber.on('ready', subscribe);
      if (subscriber.status === 'ready') subscribe();
    },
    close() {
      subscriber.disconnect();
      redis.disconnect();
    },
  };
}
