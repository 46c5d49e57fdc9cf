import type { Redis } from 'ioredis';

/**
 * Canvas runtime state in Redis, per declared canvas:
 * - `<prefix>state:<slug>`: the SharedCanvasState JSON (shared-canvas-state.ts), kept without expiry;
 * - `<prefix>view:<slug>`: what GET /api/canvases/:slug shows, as the owner sees it;
 * - `<prefix>still:<slug>`: hash {imageId, data} of the operator's still the state holds.
 * Writes are fenced: one Lua script checks that the writer's epoch is the canvas's live lease (the
 * lease hash of lease.ts) and writes in the same atomic step, so a node that lost its lease (frozen,
 * cut off) can never overwrite what the new owner keeps. Reads check type and size in Redis
 * before anything is sent, so an oversized or foreign value costs this node nothing.
 */

const WRITE = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[2], ARGV[2])
redis.call('SET', KEYS[3], ARGV[3])
return 1
`;

const WRITE_STILL = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
redis.call('HSET', KEYS[2], 'imageId', ARGV[2], 'data', ARGV[3])
return 1
`;

/** {status}: 0 none, -1 not a string, -2 too large ({-2, size}); {1, value} otherwise. */
const READ = `
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return {0} end
if t ~= 'string' then return {-1} end
local n = redis.call('STRLEN', KEYS[1])
if n > tonumber(ARGV[1]) then return {-2, n} end
return {1, redis.call('GET', KEYS[1])}
`;

const READ_STILL = `
local t = redis.call('TYPE', KEYS[1]).ok
if t == 'none' then return {0} end
if t ~= 'hash' then return {-1} end
local n = redis.call('HSTRLEN', KEYS[1], 'data')
if n > tonumber(ARGV[1]) then return {-2, n} end
return {1, redis.call('HGET', KEYS[1], 'imageId') or '', redis.call('HGET', KEYS[1], 'data') or ''}
`;

export type Read<T> = { found: true; value: T } | { found: false; problem?: string };

export interface SharedStateStore {
  /** Writes state and view while `epoch` is the live lease; false when Redis refused (not ours). */
  write(slug: string, epoch: number, state: string, view: string): Promise<boolean>;
  /** Writes a still's bytes while `epoch` is the live lease; false when refused. */
  writeStill(slug: string, epoch: number, imageId: string, data: Buffer): Promise<boolean>;
  readState(slug: string, maxBytes: number): Promise<Read<string>>;
  readView(slug: string, maxBytes: number): Promise<Read<string>>;
  readStill(slug: string, maxBytes: number): Promise<Read<{ imageId: string; data: Buffer }>>;
}

type StoreRedis = Redis & {
  easelStateWrite(lease: string, state: string, view: string, epoch: number, s: string, v: string): Promise<number>;
  easelStillWrite(lease: string, still: string, epoch: number, imageId: string, data: Buffer): Promise<number>;
  easelStateRead(key: string, max: number): Promise<[number, string?]>;
  easelStillReadBuffer(key: string, max: number): Promise<[number, Buffer?, Buffer?]>;
};

const problemOf = (status: number, size: unknown, maxBytes: number): string =>
  status === -1 ? 'is not the kind of value Easel writes' : `is ${Number(size)} bytes, over ${maxBytes}`;

export function createSharedStateStore(redis: Redis, prefix = 'easel:'): SharedStateStore {
  const r = redis as StoreRedis;
  if (!('easelStateWrite' in redis)) {
    redis.defineCommand('easelStateWrite', { numberOfKeys: 3, lua: WRITE });
    redis.defineCommand('easelStillWrite', { numberOfKeys: 2, lua: WRITE_STILL });
    redis.defineCommand('easelStateRead', { numberOfKeys: 1, lua: READ });
    redis.defineCommand('easelStillRead', { numberOfKeys: 1, lua: READ_STILL });
  }
  const key = (kind: string, slug: string) => `${prefix}${kind}:${slug}`;
  const readText = async (k: string, maxBytes: number): Promise<Read<string>> => {
    const [status, value] = await r.easelStateRead(k, maxBytes);
    if (status === 0) return { found: false };
    if (status !== 1) return { found: false, problem: problemOf(status, value, maxBytes) };
    return { found: true, value: String(value) };
  };

  return {
    async write(slug, epoch, state, view) {
      return (await r.easelStateWrite(key('lease', slug), key('state', slug), key('view', slug), epoch, state, view)) === 1;
    },
    async writeStill(slug, epoch, imageId, data) {
      return (await r.easelStillWrite(key('lease', slug), key('still', slug), epoch, imageId, data)) === 1;
    },
    readState: (slug, maxBytes) => readText(key('state', slug), maxBytes),
    readView: (slug, maxBytes) => readText(key('view', slug), maxBytes),
    async readStill(slug, maxBytes) {
      const [status, a, b] = await r.easelStillReadBuffer(key('still', slug), maxBytes);
      if (Number(status) === 0) return { found: false };
      if (Number(status) !== 1) return { found: false, problem: problemOf(Number(status), a?.toString(), maxBytes) };
      return { found: true, value: { imageId: a?.toString() ?? '', data: b ?? Buffer.alloc(0) } };
    },
  };
}
