import { EaselError } from '../errors.js';
import type { createApi } from '../api/http.js';
import { WEBHOOK_EVENTS } from './output-config.js';
import type { Webhooks } from './webhooks.js';

const MAX_LIMIT = 200;

/**
 * `GET /api/webhooks/deliveries` (operator token): each hook (where it posts, scheme and host
 * only, and its counts) and the recent deliveries, newest first. Query: `limit` (1-200, default
 * 50), `hook` (its index in the config), `event`. No secret and no URL path is ever in it.
 */
export function registerWebhookRoute(api: ReturnType<typeof createApi>, webhooks: Webhooks | undefined): void {
  api.route('get', '/api/webhooks/deliveries', (req) => {
    if (!req.operator) {
      // Reading routes take any token without complaint; this one shows what only operators see.
      if (req.headers.authorization !== undefined || req.query.has('token')) {
        throw new EaselError('EASEL_ERR_AUTH_INVALID', 'The operator token is not right', {
          hint: 'Use the token from EASEL_OPERATOR_TOKEN (or the one printed at start)',
        });
      }
      throw new EaselError('EASEL_ERR_AUTH_REQUIRED', 'The webhook delivery log needs the operator token', {
        hint: 'Send the header "Authorization: Bearer <token>"; the token is EASEL_OPERATOR_TOKEN, or the one printed at start',
      });
    }
    const hooks = webhooks?.hooks() ?? [];
    const limit = intParam(req.query.get('limit'), 'limit', 1, MAX_LIMIT) ?? 50;
    const hook = intParam(req.query.get('hook'), 'hook', 0, Math.max(0, hooks.length - 1));
    const event = req.query.get('event') ?? undefined;
    if (event !== undefined && !(WEBHOOK_EVENTS as readonly string[]).includes(event)) {
      throw invalid('event', `${JSON.stringify(event.slice(0, 60))} is not a webhook event`, `Use one of ${WEBHOOK_EVENTS.join(', ')}`);
    }
    const deliveries = webhooks?.deliveries({ limit, ...(hook !== undefined && { hook }), ...(event !== undefined && { event }) }) ?? [];
    return { status: 200, json: { hooks, deliveries } };
  });
}

function intParam(raw: string | null, name: string, min: number, max: number): number | undefined {
  if (raw === null) return undefined;
  if (!/^\d{1,6}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw invalid(name, `${JSON.stringify(raw.slice(0, 60))} is not a whole number from ${min} to ${max}`, `Send ?${name}=<${min}-${max}>`);
  }
  return Number(raw);
}

const invalid = (field: string, detail: string, hint: string) =>
  new EaselError('EASEL_ERR_REQUEST_INVALID', `${field}: ${detail}`, { hint, details: { field } });
