import { once } from 'node:events';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { createRedis } from '../../server/cluster/redis.js';
import { startRedis, type TestRedis } from './redis-server.js';

/**
 * A real redis-server for the tests of one file (or describe block), and connections to it that
 * are closed after each test. Call it at the top level of the file or block.
 */
export function useRedisServer() {
  let server: TestRedis | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });
  afterAll(async () => {
    await server?.stop();
  });
  return {
    get server(): TestRedis {
      if (!server) throw new Error('The redis-server starts in beforeAll: use it inside a test');
      return server;
    },
    /** A connection as a node makes one, ready; a test that stops Redis sees its errors as events only. */
    async connect(commandTimeoutMs = 2000): Promise<Redis> {
      const redis = createRedis({ url: this.server.url, commandTimeoutMs });
      redis.on('error', () => {});
      clients.push(redis);
      await once(redis, 'ready');
      return redis;
    },
  };
}
