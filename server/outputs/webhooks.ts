/**
 * Webhooks: a JSON POST to each configured URL on the events it chose, signed with its secret.
 *
 * Body: `{id, event, canvas, at, sentAt, data}`; `at` is when the event happened, `sentAt` when
 * this attempt left (so a retry has a new one). Headers: `X-Easel-Signature: sha256=<hex>`, the
 * HMAC-SHA256 of the raw body with the hook's secret; `X-Easel-Timestamp` (Unix seconds, the
 * same instant as `sentAt`, which the signature covers); `X-Easel-Event`; `X-Easel-Delivery`
 * (the id, the same on every retry, so a receiver can drop one it already has).
 */
import { createHmac, randomUUID } from 'node:crypto';
import type { EaselEvent } from '../control/events.js';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { WebhookConfig } from './output-config.js';
import { webhookEventOf, type WebhookEvent } from './webhook-events.js';
import { createHookQueue, type AttemptResult, type BackoffOptions, type DeliveryRecord, type HookQueue } from './webhook-queue.js';

export interface WebhooksOptions extends BackoffOptions {
  hooks: readonly WebhookConfig[];
  clock: Clock;
  logger: Logger;
  /** Default: Node's fetch (undici). */
  fetch?: typeof fetch;
  /** One attempt's limit, ms (default 10 000). */
  timeoutMs?: number;
  maxQueue?: number;
  maxAttempts?: number;
  random?: () => number;
  /** Deliveries the log keeps, newest first (default 200). */
  keep?: number;
  /** Sent as User-Agent. */
  userAgent?: string;
}

/** The HMAC a receiver recomputes: `sha256=` and the hex digest of the raw body. */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Where a hook posts, as the log shows it: scheme, host and port only (a path may hold a token). */
export function hookTarget(url: string): string {
  return new URL(url).origin;
}

const RETRIED_STATUS = new Set([408, 425, 429]);

export function createWebhooks(options: WebhooksOptions) {
  const { clock } = options;
  const log = options.logger.child({ component: 'webhooks' });
  const post = options.fetch ?? fetch;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const keep = options.keep ?? 200;
  const limiter = createLogLimiter({ now: () => clock.now() });
  const recent: DeliveryRecord[] = [];
  /** What each pending delivery sends, by its id; gone once it ends. */
  const events = new Map<string, WebhookEvent & { at: string }>();
  const inFlight = new Set<AbortController>();

  function remember(record: DeliveryRecord) {
    recent.unshift(record);
    if (recent.length > keep) recent.length = keep;
  }

  async function attempt(hook: WebhookConfig, record: DeliveryRecord): Promise<AttemptResult> {
    const event = events.get(record.id);
    if (!event) return { ok: false, retry: false, error: 'The event was forgotten' };
    const sentAt = clock.now();
    const body = JSON.stringify({
      id: record.id,
      event: event.event,
      canvas: event.canvas,
      at: event.at,
      sentAt: new Date(sentAt).toISOString(),
      data: event.data,
    });
    const controller = new AbortController();
    inFlight.add(controller);
    const timer = clock.setTimeout(() => controller.abort(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    try {
      const res = await post(hook.url, {
        method: 'POST',
        body,
        redirect: 'manual',
        signal: controller.signal,
        headers: {
          'content-type': 'application/json',
          'user-agent': options.userAgent ?? 'Easel-Webhooks',
          'x-easel-event': event.event,
          'x-easel-delivery': record.id,
          'x-easel-timestamp': String(Math.floor(sentAt / 1000)),
          'x-easel-signature': signWebhook(hook.secret, body),
        },
      });
      // The receiver's words are not needed; reading them would only hold the socket.
      await res.body?.cancel().catch(() => undefined);
      if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
      const retry = res.status >= 500 || RETRIED_STATUS.has(res.status);
      const retryAfter = Number(res.headers.get('retry-after'));
      return {
        ok: false,
        retry,
        status: res.status,
        error:
          res.status >= 300 && res.status < 400
            ? `HTTP ${res.status}: redirects are not followed, set the final URL`
            : `HTTP ${res.status}`,
        ...(Number.isFinite(retryAfter) && retryAfter > 0 ? { retryAfterMs: retryAfter * 1000 } : {}),
      };
    } catch (err) {
      const reason = controller.signal.aborted ? (controller.signal.reason as Error).message : networkError(err);
      return { ok: false, retry: true, error: reason };
    } finally {
      clock.clearTimeout(timer);
      inFlight.delete(controller);
    }
  }

  const queues: HookQueue[] = options.hooks.map((hook, index) =>
    createHookQueue({
      clock,
      attempt: (record) => attempt(hook, record),
      ...(options.maxQueue !== undefined && { maxQueue: options.maxQueue }),
      ...(options.maxAttempts !== undefined && { maxAttempts: options.maxAttempts }),
      ...(options.baseDelayMs !== undefined && { baseDelayMs: options.baseDelayMs }),
      ...(options.maxDelayMs !== undefined && { maxDelayMs: options.maxDelayMs }),
      ...(options.random && { random: options.random }),
      onEnded(record) {
        events.delete(record.id);
        if (record.state === 'delivered')
          return log.debug({ hook: index, event: record.event, slug: record.canvas, attempts: record.attempts }, 'Webhook delivered');
        const suppressed = limiter.take(`${record.state}:${index}`);
        if (suppressed === undefined) return;
        log.warn(
          {
            hook: index,
            target: hookTarget(hook.url),
            event: record.event,
            slug: record.canvas,
            attempts: record.attempts,
            error: record.lastError,
            suppressed,
          },
          record.state === 'dropped'
            ? 'Webhook dropped: its queue is full while the receiver is down'
            : `Webhook failed: ${record.lastError}`,
        );
      },
    }),
  );

  return {
    /** Queues the event for every hook that chose it; returns at once. */
    handle(event: EaselEvent) {
      const hooked = webhookEventOf(event);
      if (!hooked) return;
      const chosen = options.hooks.flatMap((hook, i) => (hook.events.includes(hooked.event) ? [i] : []));
      if (chosen.length === 0) return;
      const at = new Date(clock.now()).toISOString();
      for (const i of chosen) {
        // Each hook has its own id: a receiver behind two hooks can tell the deliveries apart.
        const record: DeliveryRecord = {
          id: randomUUID(),
          hook: i,
          event: hooked.event,
          canvas: hooked.canvas,
          state: 'queued',
          attempts: 0,
          createdAt: at,
        };
        events.set(record.id, { ...hooked, at });
        remember(record);
        queues[i]!.push(record);
      }
    },

    /** Recent deliveries, newest first, as copies; no secret and no URL path in them. */
    deliveries(filter: { hook?: number; event?: string; limit: number }): DeliveryRecord[] {
      return recent
        .filter((r) => (filter.hook === undefined || r.hook === filter.hook) && (filter.event === undefined || r.event === filter.event))
        .slice(0, filter.limit)
        .map((r) => ({ ...r }));
    },

    /** Each hook: where it posts (origin only), what it hears, and its counts. */
    hooks() {
      return options.hooks.map((hook, i) => ({
        hook: i,
        target: hookTarget(hook.url),
        events: [...hook.events],
        pending: queues[i]!.pending,
        ...queues[i]!.stats,
      }));
    },

    /** Summed over hooks, for /metrics. */
    totals() {
      const sum = { delivered: 0, failed: 0, dropped: 0, failedAttempts: 0 };
      for (const q of queues) for (const k of Object.keys(sum) as Array<keyof typeof sum>) sum[k] += q.stats[k];
      return sum;
    },

    close() {
      let pending = 0;
      for (const q of queues) pending += q.close();
      for (const c of inFlight) c.abort(new Error('Easel is shutting down'));
      if (pending > 0) log.info({ pending }, `Shutting down with ${pending} webhook deliveries not made`);
    },
  };
}

export type Webhooks = ReturnType<typeof createWebhooks>;

/** undici says "fetch failed" and puts the reason in `cause` (ECONNREFUSED, ENOTFOUND...). */
function networkError(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (err as Error).message ?? String(err);
}
