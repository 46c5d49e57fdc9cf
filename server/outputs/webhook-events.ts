/**
 * Which bus events become webhooks, and what each carries: `{event, canvas, data}`. The names
 * are the ones `webhooks[].events` subscribe to (output-config.ts).
 */
import type { EaselEvent } from '../control/events.js';
import type { WebhookEventName } from './output-config.js';

export interface WebhookEvent {
  event: WebhookEventName;
  /** The canvas's slug; a playlist on several canvases names the first (all in `data.slugs`). */
  canvas: string | null;
  data: Record<string, unknown>;
}

export function webhookEventOf(event: EaselEvent): WebhookEvent | undefined {
  switch (event.type) {
    case 'job': {
      const { job } = event;
      if (job.state !== 'done' && job.state !== 'failed') return undefined;
      return { event: job.state === 'done' ? 'job.done' : 'job.failed', canvas: job.slug, data: { job } };
    }
    case 'source': {
      const { slug, health, ...data } = event;
      return {
        event: health === 'down' ? 'source.down' : 'source.up',
        canvas: slug,
        data: { state: data.state, code: data.code, reason: data.reason },
      };
    }
    case 'display': {
      const { slug, event: what, type: _type, ...data } = event;
      return { event: what === 'connected' ? 'display.connected' : 'display.lost', canvas: slug, data };
    }
    case 'playlist': {
      if (event.event !== 'step-started') return undefined;
      const { type: _type, ...detail } = event.detail ?? {};
      const slugs = Array.isArray(detail.slugs) ? (detail.slugs as string[]) : [];
      return { event: 'playlist.step', canvas: slugs[0] ?? event.slug ?? null, data: detail };
    }
    case 'canvas':
      return event.created ? { event: 'canvas.created', canvas: event.slug, data: { createdBy: event.created } } : undefined;
    default:
      return undefined;
  }
}
