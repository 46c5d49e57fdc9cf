import type { Redis } from 'ioredis';
import type { OwnerChanges } from './owner-changes.js';
import { createFrame, type Frame } from '../canvas/frame.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { EncodedImage } from '../stream/renderer.js';
import type { RenditionSpec } from '../stream/rendition.js';
import { decodeRelayMessage, encodeRelayMessage, RelayMessageError, type RelayMessage } from './frame-relay.js';
import { createLogLimiter } from '../log-limiter.js';
import { readWants } from './wants.js';

/**
 * Frames across nodes. The owner of a declared canvas publishes each frame it shows (with its
 * lease epoch) on the canvas's channel; every other node hands what it receives to its own
 * canvas, which shows it as if local. A frame whose epoch is below the highest this node knows
 * for the canvas (seen on a frame, or read from the lease) comes from a node that lost its
 * lease and is refused. Nodes also tell the owner which renditions their displays want, so the
 * owner encodes them once for the whole cluster.
 */

/** What the relay needs of Redis (a fake in unit tests). */
export interface RelayBus {
  /**
   * Sends a frame, only while `epoch` is the canvas's live lease (checked in Redis, atomically
   * with the send): false when Redis refused it as stale. Also keeps the highest seq sent.
   */
  publish(slug: string, message: Buffer, epoch: number, seq: number): Promise<boolean>;
  /** The highest seq any owner sent for the canvas; 0 when none is known. */
  lastSeq(slug: string): Promise<number>;
  /** Raises that highest seq to at least `seq` (what an island showed), so the owner numbers on above it. */
  keepSeq(slug: string, seq: number): Promise<void>;
  /** Starts listening to these canvases' frames. */
  subscribe(slugs: readonly string[], onMessage: (slug: string, message: Buffer) => void): void;
  /** Stops (false) or starts again (true) listening to one of them. */
  follow(slug: string, on: boolean): void;
  /** Sets (or with undefined, removes) this node's wants for a canvas; the hash expires after `ttlMs` without a write. */
  writeWants(slug: string, nodeId: string, value: string | undefined, ttlMs: number): Promise<void>;
  /** Every node's wants for a canvas, by node id. */
  readWants(slug: string): Promise<Record<string, string>>;
  /** Forgets one node's wants (it stopped writing them). */
  dropWants(slug: string, nodeId: string): Promise<void>;
  close(): Promise<void>;
}

export type Refusal = 'stale' | 'old' | 'own' | 'unknown' | 'malformed';

export interface RelayStats {
  published: number;
  /** Frames Redis refused to send: this node's lease was no longer the live one. */
  publishFenced: number;
  bytesPublished: number;
  publishFailed: number;
  received: number;
  bytesReceived: number;
  shown: number;
  refused: Record<Refusal, number>;
}

export interface RelayOptions {
  bus: RelayBus;
  nodeId: string;
  /** The declared canvases: the only ones whose frames cross nodes. */
  slugs: readonly string[];
  clock: Clock;
  logger: Logger;
  /** Told of every frame shown here with its epoch, to measure how long screens waited when the canvas changed hands. */
  ownerChanges?: OwnerChanges;
  /** The epoch of the lease this node holds for the canvas now, undefined when it holds none. */
  epochOf: (slug: string) => number | undefined;
  /** The live lease's epoch in Redis (fencing before any frame of a new owner arrives); undefined when free. */
  currentEpoch?: (slug: string) => Promise<number | undefined>;
  /** Shows a received frame on this node's canvas; false when the canvas already showed a later one. */
  deliver: (slug: string, frame: Frame) => boolean;
  /** A node that starts producing a canvas numbers its frames on from the last seq sent (failover, handover). */
  raiseSeq?: (slug: string, seq: number) => void;
  /** The seq of the frame this node's canvas shows now, told to the next owner when it stops producing. */
  shownSeq?: (slug: string) => number;
  /** The renditions this node's displays of the canvas want now. */
  wantedHere: (slug: string) => RenditionSpec[];
  /** Wants are written and read this often (the heartbeat interval), and forgotten after three. */
  intervalMs: number;
}

export interface Relay {
  /** The owner: sends a frame it just showed to the other nodes. */
  publish(slug: string, frame: Frame): void;
  /** This node starts or stops producing a canvas: it does not listen to its channel meanwhile. */
  producing(slug: string, producing: boolean): void;
  /** The renditions displays on other nodes want of a canvas this node produces. */
  remoteSpecs(slug: string): RenditionSpec[];
  /** For the bus: a message arrived on a canvas's channel. */
  receive(slug: string, message: Buffer): void;
  /** Writes this node's wants and reads the others' now (start() does it every interval). */
  tick(): Promise<void>;
  start(): void;
  readonly stats: Readonly<RelayStats>;
  close(): Promise<void>;
}

/** A relayed frame as the channel takes it. Its image is its largest rendition, for renditions made late on this node. */
export function frameOf(message: RelayMessage): Frame {
  const renditions = new Map<string, EncodedImage>(message.renditions.map((r) => [r.key, r.encoded]));
  const whole = message.renditions.filter((r) => !r.encoded.tile);
  const largest = (whole.length > 0 ? whole : message.renditions).reduce((a, b) =>
    b.encoded.width * b.encoded.height > a.encoded.width * a.encoded.height ? b : a,
  );
  const frame = createFrame(
    {
      id: message.imageId,
      data: largest.encoded.data,
      source: message.source,
      createdAt: Date.parse(message.madeAt),
      ...(message.prompt !== undefined ? { prompt: message.prompt } : {}),
    },
    renditions,
  );
  frame.seq = message.seq;
  frame.slotTime = message.slotTime;
  frame.presentAt = message.presentAt;
  return Object.assign(frame, { madeAt: message.madeAt });
}

export function createRelay(options: RelayOptions): Relay {
  const { bus, nodeId, clock, intervalMs } = options;
  const log = options.logger.child({ component: 'relay' });
  const declared = new Set(options.slugs);
  /** Highest epoch known per canvas: frames below it come from a node that lost the lease. */
  const highest = new Map<string, number>();
  const remote = new Map<string, RenditionSpec[]>();
  /** What this node last told the owner, per canvas, so an unchanged empty list is not rewritten. */
  const told = new Map<string, string>();
  const stats: RelayStats = {
    published: 0,
    publishFenced: 0,
    bytesPublished: 0,
    publishFailed: 0,
    received: 0,
    bytesReceived: 0,
    shown: 0,
    refused: { stale: 0, old: 0, own: 0, unknown: 0, malformed: 0 },
  };
  const wantsTtlMs = intervalMs * 3;
  // Refusals can come at frame rate (or faster, from anything that publishes on the channel): one line a minute per kind.
  const limiter = createLogLimiter({ now: () => clock.now() });
  let timer: unknown;
  let closed = false;
  let publishFailing = false;

  const raise = (slug: string, epoch: number) => {
    if (epoch > (highest.get(slug) ?? 0)) highest.set(slug, epoch);
  };

  const refuse = (reason: Refusal, slug: string, detail: Record<string, unknown> = {}) => {
    stats.refused[reason]++;
    // Stale and malformed frames are worth a line; the others are counted only (they come at frame rate in a handover).
    if (reason !== 'stale' && reason !== 'malformed') return;
    const leftOut = limiter.take(`relay-${reason}`);
    if (leftOut !== undefined) log.warn({ slug, reason, leftOut, ...detail }, `Relayed frame refused (${reason})`);
  };

  const relay: Relay = {
    publish(slug, frame) {
      const epoch = options.epochOf(slug);
      if (!declared.has(slug) || epoch === undefined || closed) return;
      raise(slug, epoch);
      options.ownerChanges?.shown(slug, epoch, frame.presentAt ?? frame.slotTime, nodeId);
      let message: Buffer;
      try {
        message = encodeRelayMessage({
          node: nodeId,
          slug,
          epoch,
          seq: frame.seq,
          slotTime: frame.slotTime,
          presentAt: frame.presentAt,
          madeAt: frame.madeAt,
          imageId: frame.imageId,
          source: frame.source,
          prompt: frame.prompt,
          renditions: [...frame.renditions].map(([key, encoded]) => ({ key, encoded })),
        });
      } catch (err) {
        stats.publishFailed++;
        log.warn({ slug, err: err instanceof RelayMessageError ? err.message : err }, 'Frame not relayed to other nodes');
        return;
      }
      bus.publish(slug, message, epoch, frame.seq).then(
        (sent) => {
          publishFailing = false;
          if (!sent) {
            stats.publishFenced++;
            const leftOut = limiter.take('relay-fenced');
            if (leftOut !== undefined)
              log.warn({ slug, epoch, leftOut }, 'Frame not relayed: Redis says this node no longer holds the lease');
            return;
          }
          stats.published++;
          stats.bytesPublished += message.length;
        },
        (err: unknown) => {
          stats.publishFailed++;
          // Redis down is said once by the cluster; this says once that frames stop crossing.
          if (!publishFailing) log.warn({ slug, err: String(err) }, 'Frames not relayed to other nodes: Redis does not take them');
          publishFailing = true;
        },
      );
    },

    remoteSpecs: (slug) => remote.get(slug) ?? [],

    producing(slug, producing) {
      if (!declared.has(slug) || closed) return;
      bus.follow(slug, !producing);
      // An island (produced here alone while Redis was down) showed seqs the cluster never saw:
      // the owner numbers on above them, so these displays take its frames at once.
      const shown = options.shownSeq?.(slug) ?? 0;
      if (!producing && shown > 0) bus.keepSeq(slug, shown).catch(() => undefined);
      // Frames this node relayed in already raised its seq; this covers a canvas that showed
      // nothing since it joined (paused, holding). A frame published before the answer comes is
      // refused as old by the other nodes, until the answer raises the numbering.
      if (producing && options.raiseSeq)
        bus.lastSeq(slug).then(
          (seq) => seq > 0 && options.raiseSeq?.(slug, seq),
          () => undefined,
        );
    },

    receive(slug, buffer) {
      stats.received++;
      stats.bytesReceived += buffer.length;
      // Producing it here: what comes on its channel is our own frame echoed back, or a stale
      // node's; neither is shown, so none is even read.
      if (options.epochOf(slug) !== undefined) return refuse('own', slug);
      let message: RelayMessage;
      try {
        message = decodeRelayMessage(buffer);
      } catch (err) {
        return refuse('malformed', slug, { reason: err instanceof Error ? err.message : String(err), bytes: buffer.length });
      }
      if (message.node === nodeId) return refuse('own', slug); // ours, from just before the lease was lost
      if (message.slug !== slug || !declared.has(slug)) return refuse('unknown', slug, { claimed: message.slug });
      if (message.epoch < (highest.get(slug) ?? 0))
        return refuse('stale', slug, { epoch: message.epoch, highest: highest.get(slug), from: message.node, seq: message.seq });
      raise(slug, message.epoch);
      if (options.deliver(slug, frameOf(message))) {
        stats.shown++;
        options.ownerChanges?.shown(slug, message.epoch, message.presentAt ?? message.slotTime, message.node);
      } else refuse('old', slug);
    },

    async tick() {
      await Promise.all(
        [...declared].map(async (slug) => {
          try {
            if (options.epochOf(slug) !== undefined) {
              const last = await bus.lastSeq(slug);
              if (last > 0) options.raiseSeq?.(slug, last);
              const entries = await bus.readWants(slug);
              const { specs, expired } = readWants(entries, clock.now(), wantsTtlMs, nodeId);
              remote.set(slug, specs);
              await Promise.all(expired.map((node) => bus.dropWants(slug, node)));
              return;
            }
            remote.delete(slug);
            const current = await options.currentEpoch?.(slug);
            if (current !== undefined) raise(slug, current);
            const specs = options.wantedHere(slug);
            const value = specs.length > 0 ? JSON.stringify({ at: clock.now(), specs }) : undefined;
            if (value === undefined && told.get(slug) === undefined) return;
            await bus.writeWants(slug, nodeId, value, wantsTtlMs);
            if (value === undefined) told.delete(slug);
            else told.set(slug, value);
          } catch {
            // Redis unreachable: the cluster says so; wants are written again next time.
          }
        }),
      );
    },

    start() {
      bus.subscribe([...declared], (slug, message) => relay.receive(slug, message));
      const loop = () => {
        timer = undefined;
        if (closed) return;
        void relay.tick().finally(() => {
          if (!closed) timer = clock.setTimeout(loop, intervalMs);
        });
      };
      loop();
    },

    get stats() {
      return stats;
    },

    async close() {
      closed = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      await Promise.all([...told.keys()].map((slug) => bus.writeWants(slug, nodeId, undefined, wantsTtlMs).catch(() => undefined)));
      await bus.close();
    },
  };
  return relay;
}

/**
 * Fencing in Redis itself: a frame goes out only while its epoch is the live lease's (the lease
 * hash of lease.ts), in the same atomic step, so a node that lost its lease cannot send even
 * when its own clock is wrong. The highest seq sent is kept (never expiring) for the next owner.
 * -1: refused; else the number of nodes that received it.
 */
const FENCED_PUBLISH = `
if redis.call('HGET', KEYS[1], 'epoch') ~= ARGV[3] then return -1 end
if (tonumber(redis.call('GET', KEYS[2])) or 0) < tonumber(ARGV[4]) then redis.call('SET', KEYS[2], ARGV[4]) end
return redis.call('PUBLISH', ARGV[1], ARGV[2])
`;

/** The highest seq kept only rises. */
const KEEP_SEQ = `
if (tonumber(redis.call('GET', KEYS[1])) or 0) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`;

/** The bus on a real Redis: pub/sub for frames on a second connection (a subscribed one takes no other command), a hash per canvas for wants. */
export function createRedisRelayBus(redis: Redis, prefix = 'easel:'): RelayBus {
  const channel = (slug: string) => `${prefix}frames:${slug}`;
  const wantsKey = (slug: string) => `${prefix}wants:${slug}`;
  // Waits for the connection rather than failing, with no command timeout (a subscription is not
  // a lease renewal: late is fine, lost is not); and subscribes again at every (re)connection, so
  // a subscription that failed or timed out on a busy start is made all the same. (ioredis takes
  // `commandTimeout: 0` as a 0 ms timeout that fails every SUBSCRIBE at once: undefined is none.)
  const subscriber = redis.duplicate({ enableOfflineQueue: true, maxRetriesPerRequest: null, commandTimeout: undefined });
  subscriber.on('error', () => undefined); // the main connection says what is wrong
  const channels = new Set<string>();
  const subscribeAll = () => {
    if (channels.size > 0) void subscriber.subscribe(...channels).catch(() => undefined);
  };
  subscriber.on('ready', subscribeAll);
  const fenced = redis as Redis & {
    easelRelayPublish(lease: string, seqKey: string, name: string, message: Buffer, epoch: number, seq: number): Promise<number>;
    easelKeepSeq(seqKey: string, seq: number): Promise<number>;
  };
  if (!('easelRelayPublish' in redis)) {
    redis.defineCommand('easelRelayPublish', { numberOfKeys: 2, lua: FENCED_PUBLISH });
    redis.defineCommand('easelKeepSeq', { numberOfKeys: 1, lua: KEEP_SEQ });
  }
  return {
    async publish(slug, message, epoch, seq) {
      return (await fenced.easelRelayPublish(`${prefix}lease:${slug}`, `${prefix}seq:${slug}`, channel(slug), message, epoch, seq)) >= 0;
    },
    async lastSeq(slug) {
      return Number((await redis.get(`${prefix}seq:${slug}`)) ?? 0) || 0;
    },
    async keepSeq(slug, seq) {
      await fenced.easelKeepSeq(`${prefix}seq:${slug}`, seq);
    },
    subscribe(slugs, onMessage) {
      const bySlug = new Map(slugs.map((s) => [channel(s), s]));
      subscriber.on('messageBuffer', (name: Buffer, message: Buffer) => {
        const slug = bySlug.get(name.toString());
        if (slug !== undefined) onMessage(slug, message);
      });
      for (const name of bySlug.keys()) channels.add(name);
      subscribeAll();
    },
    follow(slug, on) {
      const name = channel(slug);
      if (on === channels.has(name)) return;
      if (on) channels.add(name);
      else channels.delete(name);
      void (on ? subscriber.subscribe(name) : subscriber.unsubscribe(name)).catch(() => undefined);
    },
    async writeWants(slug, nodeId, value, ttlMs) {
      if (value === undefined) await redis.hdel(wantsKey(slug), nodeId);
      else await redis.multi().hset(wantsKey(slug), nodeId, value).pexpire(wantsKey(slug), ttlMs).exec();
    },
    readWants: (slug) => redis.hgetall(wantsKey(slug)),
    async dropWants(slug, nodeId) {
      await redis.hdel(wantsKey(slug), nodeId);
    },
    async close() {
      subscriber.disconnect();
    },
  };
}
