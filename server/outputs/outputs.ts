/**
 * Easel's ways out to other tools, wired in one place: OSC out to `osc.targets`, webhooks to
 * `webhooks`, the source watch that turns source trouble into events for both, and the
 * deliveries route. With neither configured only the route exists (it lists nothing).
 */
import type { createApi } from '../api/http.js';
import type { RegistryEvent } from '../canvas/registry.js';
import type { EaselConfig } from '../config.js';
import type { EventBus } from '../control/events.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { SourceStatus } from '../stream/source.js';
import { createOscMemory, eventMessages, frameMessage } from './osc-messages.js';
import { createOscOut } from './osc-out.js';
import { createSourceWatch } from './source-watch.js';
import { registerWebhookRoute } from './webhook-route.js';
import { createWebhooks } from './webhooks.js';

export interface OutputsOptions {
  config: Pick<EaselConfig, 'osc' | 'webhooks'>;
  events: EventBus;
  canvases: {
    onEvent(listener: (event: RegistryEvent) => void): () => void;
    list(): Array<{ slug: string; source: { status(): SourceStatus } }>;
  };
  api: ReturnType<typeof createApi>;
  clock: Clock;
  logger: Logger;
  userAgent?: string;
  /**
   * Cluster mode: whether this node produces a canvas. Only the producing node tells of its frames
   * and source trouble, and each node only of what happened on it (events from other nodes carry
   * `node`), so a target hears everything once however many nodes there are.
   */
  producedHere?: (slug: string) => boolean;
}

export function connectOutputs(options: OutputsOptions) {
  const { config, events, clock, logger } = options;
  const mine = options.producedHere ?? (() => true);
  const canvases = { ...options.canvases, list: () => options.canvases.list().filter((c) => mine(c.slug)) };
  const osc = config.osc.targets.length > 0 ? createOscOut({ targets: config.osc.targets, clock, logger }) : undefined;
  const webhooks =
    config.webhooks.length > 0
      ? createWebhooks({ hooks: config.webhooks, clock, logger, ...(options.userAgent && { userAgent: options.userAgent }) })
      : undefined;
  const watch = osc || webhooks ? createSourceWatch({ canvases, emit: (e) => events.emit(e), clock }) : undefined;
  const said = createOscMemory();
  const stops = [
    options.canvases.onEvent((event) => {
      if (event.type === 'frame' && mine(event.slug)) osc?.send([frameMessage(event.slug, event.frame)]);
    }),
    events.subscribe((event) => {
      if ((event as { node?: string }).node !== undefined) return;
      if (osc) osc.send(eventMessages(event, said));
      webhooks?.handle(event);
    }),
  ];
  registerWebhookRoute(options.api, webhooks);
  if (osc) logger.info({ targets: config.osc.targets }, `Sending OSC to ${config.osc.targets.join(', ')}`);
  if (webhooks) logger.info({ hooks: webhooks.hooks().map((h) => h.target) }, `Webhooks to ${webhooks.hooks().length} receivers`);

  return {
    osc,
    webhooks,
    /** Counts for /metrics. */
    stats: () => ({ osc: osc?.stats, webhooks: webhooks?.totals() }),
    async close() {
      for (const stop of stops) stop();
      watch?.stop();
      webhooks?.close();
      await osc?.close();
    },
  };
}
