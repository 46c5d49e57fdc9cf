import { describe, expect, it } from 'vitest';
import { useRedisServer } from '../../test/support/redis-clients.js';
import { createLeaseStore } from './lease.js';
import { createSharedStateStore } from './shared-state-store.js';

const redisServer = useRedisServer();
let run = 0;
const fresh = () => `s${++run}:`;

describe('shared state store on a real redis-server', () => {
  it('writes only with the live lease epoch: a node that lost the lease cannot overwrite the new owner', async () => {
    const prefix = fresh();
    const redis = await redisServer.connect();
    const store = createSharedStateStore(redis, prefix);
    const a = createLeaseStore({ redis, nodeId: 'node-a', leaseMs: 5000, prefix });
    const b = createLeaseStore({ redis, nodeId: 'node-b', leaseMs: 5000, prefix });
    expect(await store.write('wall', 1, '{"x":1}', '{}')).toBe(false); // nobody holds it
    const first = await a.acquire('wall');
    if (!first.ok) throw new Error('expected the lease');
    expect(await store.write('wall', first.epoch, '{"by":"a"}', '{"v":"a"}')).toBe(true);
    await a.release('wall', first.epoch);
    const second = await b.acquire('wall');
    if (!second.ok) throw new Error('expected the lease');
    expect(await store.write('wall', second.epoch, '{"by":"b"}', '{"v":"b"}')).toBe(true);
    // node-a, still believing it owns the canvas, writes with its old epoch: refused in Redis.
    expect(await store.write('wall', first.epoch, '{"by":"a-late"}', '{"v":"a-late"}')).toBe(false);
    expect(await store.writeStill('wall', first.epoch, 'u-late', Buffer.from('late'))).toBe(false);
    expect(await store.readState('wall', 1000)).toEqual({ found: true, value: '{"by":"b"}' });
    expect(await store.readView('wall', 1000)).toEqual({ found: true, value: '{"v":"b"}' });
    expect(await store.readStill('wall', 1000)).toEqual({ found: false });
  });

  it('keeps still bytes as they are, and replaces them whole', async () => {
    const prefix = fresh();
    const redis = await redisServer.connect();
    const store = createSharedStateStore(redis, prefix);
    const lease = await createLeaseStore({ redis, nodeId: 'node-a', leaseMs: 5000, prefix }).acquire('wall');
    if (!lease.ok) throw new Error('expected the lease');
    const bytes = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x00, 0xff, 0x0d, 0x0a]);
    expect(await store.writeStill('wall', lease.epoch, 'u-1', bytes)).toBe(true);
    const read = await store.readStill('wall', 1000);
    expect(read.found && read.value.imageId).toBe('u-1');
    expect(read.found && Buffer.compare(read.value.data, bytes)).toBe(0);
    expect(await store.writeStill('wall', lease.epoch, 'u-2', Buffer.from('two'))).toBe(true);
    const again = await store.readStill('wall', 1000);
    expect(again.found && [again.value.imageId, again.value.data.toString()]).toEqual(['u-2', 'two']);
  });

  it('reads nothing oversized or of a foreign type, saying why, without fetching it', async () => {
    const prefix = fresh();
    const redis = await redisServer.connect();
    const store = createSharedStateStore(redis, prefix);
    await redis.set(`${prefix}state:big`, 'x'.repeat(5000));
    await redis.lpush(`${prefix}state:list`, 'a');
    await redis.hset(`${prefix}still:big`, 'imageId', 'u-1', 'data', Buffer.alloc(5000));
    await redis.set(`${prefix}still:text`, 'not a hash');
    expect(await store.readState('big', 4096)).toEqual({ found: false, problem: 'is 5000 bytes, over 4096' });
    expect(await store.readState('list', 4096)).toEqual({ found: false, problem: 'is not the kind of value Easel writes' });
    expect(await store.readState('none', 4096)).toEqual({ found: false });
    expect(await store.readStill('big', 4096)).toEqual({ found: false, problem: 'is 5000 bytes, over 4096' });
    expect(await store.readStill('text', 4096)).toEqual({ found: false, problem: 'is not the kind of value Easel writes' });
  });
});
