/**
 * The model each endpoint serves (`model_name` from its GetInfo), so every generated image can
 * say what made it. Asked once per connection, beside the first Generate call on it, and read
 * without waiting: an image never waits for it (the unary answer normally lands long before the
 * first image). A service that cannot answer is asked again at most once a minute.
 */
import type { Clock } from '../stream/clock.js';
import type { Connection } from './endpoint.js';

export interface ModelNamesOptions {
  clock: Clock;
  /** Deadline of one GetInfo call, ms. */
  deadlineMs: number;
  /** How long after a failed GetInfo the next is tried, ms. Default 60000. */
  retryMs?: number;
}

interface Known {
  name?: string;
  asking: boolean;
  failedAt?: number;
}

export function createModelNames(options: ModelNamesOptions) {
  const { clock, deadlineMs } = options;
  const retryMs = options.retryMs ?? 60_000;
  // Keyed by connection: a service restarted behind the same address may load another model.
  const known = new WeakMap<Connection, Known>();

  function ask(connection: Connection, entry: Known): void {
    entry.asking = true;
    try {
      // Wall-clock: gRPC compares deadlines with the real time.
      connection.generator.getInfo({}, { deadline: Date.now() + deadlineMs }, (err, reply) => {
        entry.asking = false;
        if (!err && reply?.modelName) entry.name = reply.modelName;
        else entry.failedAt = clock.now();
      });
    } catch {
      // A channel closed under us: ask on the next connection instead.
      entry.asking = false;
      entry.failedAt = clock.now();
    }
  }

  return {
    /** The model `connection` serves when known; otherwise asks (once) and answers undefined for now. */
    of(connection: Connection): string | undefined {
      let entry = known.get(connection);
      if (!entry) {
        entry = { asking: false };
        known.set(connection, entry);
      }
      if (entry.name !== undefined || entry.asking) return entry.name;
      if (entry.failedAt === undefined || clock.now() - entry.failedAt >= retryMs) ask(connection, entry);
      return entry.name;
    },
  };
}

export type ModelNames = ReturnType<typeof createModelNames>;
