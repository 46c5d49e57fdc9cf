import { Redis } from 'ioredis';

export interface RedisOptions {
  url: string;
  /** Longest wait for one reply, ms: a renewal that takes longer is as good as failed. */
  commandTimeoutMs: number;
}

/** Reconnects forever, backing off to one try every 2 s: a Redis that comes back heals the cluster. */
export const reconnectDelayMs = (attempt: number): number => Math.min(2000, 50 * 2 ** Math.min(attempt, 6));

/**
 * One connection to the cluster's Redis. Commands fail at once while it is down instead of
 * queueing (enableOfflineQueue false, one try per request): a lease renewal sent late is worse
 * than one that fails, since the caller must know now that it cannot vouch for its lease.
 */
export function createRedis(options: RedisOptions): Redis {
  return new Redis(options.url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: Math.max(1000, options.commandTimeoutMs),
    retryStrategy: reconnectDelayMs,
    // The caller counts failures and says once what is wrong; ioredis would print each one.
    showFriendlyErrorStack: false,
    lazyConnect: false,
  });
}

/** A URL with any password replaced, for logs and /api/cluster. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'redis://(unreadable address)';
  }
}
