import type { Redis } from 'ioredis';

/**
 * Canvas leases in Redis, with fencing. One hash per canvas, `<prefix>lease:<slug>` = {owner,
 * epoch}, expiring after the lease length by Redis's own clock, so node clocks never decide who
 * owns what. `<prefix>epoch:<slug>` is a counter that never expires: every new acquisition
 * raises it, so an epoch is never handed out twice for a canvas, even after Redis forgot a lease.
 * It rises to at least Redis's clock in ms, so it keeps going up even when Redis restarts
 * without its data (the counter gone), as long as Redis's clock does not step back.
 * Each check-and-set is one Lua script, so it is atomic on the server.
 */

/** Free (or expired: the key is gone) → a new epoch is ours. Held by anyone, us included → refused. */
const ACQUIRE = `
local owner = redis.call('HGET', KEYS[1], 'owner')
if owner then
  return {0, owner, tonumber(redis.call('HGET', KEYS[1], 'epoch')), redis.call('PTTL', KEYS[1])}
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local epoch = math.max((tonumber(redis.call('GET', KEYS[2])) or 0) + 1, now)
redis.call('SET', KEYS[2], string.format('%d', epoch))
redis.call('HSET', KEYS[1], 'owner', ARGV[1], 'epoch', string.format('%d', epoch))
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, ARGV[1], epoch, tonumber(ARGV[2])}
`;

/** Extends only the lease we hold, with the epoch we were given. */
const RENEW = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'epoch') == ARGV[2] then
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return 1
end
return 0
`;

/** Gives back only the lease we hold, with the epoch we were given. */
const RELEASE = `
if redis.call('HGET', KEYS[1], 'owner') == ARGV[1] and redis.call('HGET', KEYS[1], 'epoch') == ARGV[2] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
`;

/**
 * A planned handover: only the holder, with its epoch, gives the lease straight to another node,
 * under a new epoch (above every one handed out) and a full lease length. The giver's epoch is
 * dead from here on: its renewals, frames and state writes are refused.
 */
const TRANSFER = `
if redis.call('HGET', KEYS[1], 'owner') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[2] then
  return 0
end
local epoch = math.max((tonumber(redis.call('GET', KEYS[2])) or 0) + 1, tonumber(ARGV[2]) + 1)
redis.call('SET', KEYS[2], string.format('%d', epoch))
redis.call('HSET', KEYS[1], 'owner', ARGV[3], 'epoch', string.format('%d', epoch))
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return epoch
`;

export type Acquired = { ok: true; epoch: number } | { ok: false; owner: string; epoch: number; remainingMs: number };

export interface LeaseHolder {
  owner: string;
  epoch: number;
  remainingMs: number;
}

export interface LeaseStore {
  readonly leaseMs: number;
  acquire(slug: string): Promise<Acquired>;
  /** True when the lease was still ours with this epoch and now runs a full lease length again. */
  renew(slug: string, epoch: number): Promise<boolean>;
  /** True when it was ours with this epoch and is now free for others. */
  release(slug: string, epoch: number): Promise<boolean>;
  /** Gives the lease we hold with this epoch to node `to`: its new epoch, or undefined when it was not ours. */
  transfer(slug: string, epoch: number, to: string): Promise<number | undefined>;
  /** Fencing: whether `epoch` is the live lease of the canvas (a frame carrying any other is stale). */
  isCurrent(slug: string, epoch: number): Promise<boolean>;
  holder(slug: string): Promise<LeaseHolder | undefined>;
}

export interface LeaseStoreOptions {
  redis: Redis;
  /** This node's id: the owner written into leases. */
  nodeId: string;
  leaseMs: number;
  /** Key prefix, so several installations (or tests) can share one Redis. */
  prefix?: string;
}

type LeaseRedis = Redis & {
  easelLeaseAcquire(lease: string, counter: string, owner: string, ms: number): Promise<[number, string, number, number]>;
  easelLeaseRenew(lease: string, owner: string, epoch: number, ms: number): Promise<number>;
  easelLeaseRelease(lease: string, owner: string, epoch: number): Promise<number>;
  easelLeaseTransfer(lease: string, counter: string, owner: string, epoch: number, to: string, ms: number): Promise<number>;
};

export function createLeaseStore(options: LeaseStoreOptions): LeaseStore {
  const { nodeId, leaseMs } = options;
  const prefix = options.prefix ?? 'easel:';
  const redis = options.redis as LeaseRedis;
  // defineCommand sends EVALSHA and falls back to EVAL when Redis has not seen the script (after a restart).
  if (!('easelLeaseAcquire' in options.redis)) {
    options.redis.defineCommand('easelLeaseAcquire', { numberOfKeys: 2, lua: ACQUIRE });
    options.redis.defineCommand('easelLeaseRenew', { numberOfKeys: 1, lua: RENEW });
    options.redis.defineCommand('easelLeaseRelease', { numberOfKeys: 1, lua: RELEASE });
    options.redis.defineCommand('easelLeaseTransfer', { numberOfKeys: 2, lua: TRANSFER });
  }
  const leaseKey = (slug: string) => `${prefix}lease:${slug}`;
  const epochKey = (slug: string) => `${prefix}epoch:${slug}`;

  return {
    leaseMs,
    async acquire(slug) {
      const [ok, owner, epoch, remainingMs] = await redis.easelLeaseAcquire(leaseKey(slug), epochKey(slug), nodeId, leaseMs);
      return ok === 1 ? { ok: true, epoch } : { ok: false, owner, epoch, remainingMs };
    },
    async renew(slug, epoch) {
      return (await redis.easelLeaseRenew(leaseKey(slug), nodeId, epoch, leaseMs)) === 1;
    },
    async release(slug, epoch) {
      return (await redis.easelLeaseRelease(leaseKey(slug), nodeId, epoch)) === 1;
    },
    async transfer(slug, epoch, to) {
      const got = await redis.easelLeaseTransfer(leaseKey(slug), epochKey(slug), nodeId, epoch, to, leaseMs);
      return got > 0 ? got : undefined;
    },
    async isCurrent(slug, epoch) {
      return (await redis.hget(leaseKey(slug), 'epoch')) === String(epoch);
    },
    async holder(slug) {
      const [[, fields], [, ttl]] = (await redis.multi().hgetall(leaseKey(slug)).pttl(leaseKey(slug)).exec()) as [
        [unknown, Record<string, string>],
        [unknown, number],
      ];
      if (!fields.owner) return undefined;
      return { owner: fields.owner, epoch: Number(fields.epoch), remainingMs: ttl };
    },
  };
}
