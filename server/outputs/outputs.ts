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
}

export function connectOutputs(options: OutputsOptions) {
  const { config, events, clock, logger } = options;
  const osc = config.osc.targets.length > 0 ? createOscOut({ targets: config.osc.targets, clock, logger }) : undefined;
  const webhooks =
    config.webhooks.length > 0
      ? createWebhooks({ hooks: config.webhooks, clock, logger, ...(options.userAgent && { userAgent: options.userAgent }) })
      : undefined;
  const watch = osc || webhooks ? createSourceWatch({ canvases: options.canvases, emit: (e) => events.emit(e), clock }) : undefined;
  const said = createOscMemory();
  const stops = [
    options.canvases.onEvent((event) => {
      if (event.type === 'frame') osc?.send([frameMessage(event.slug, event.frame)]);
    }),
    events.subscribe((event) => {
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
