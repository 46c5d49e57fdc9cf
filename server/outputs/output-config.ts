/**
 * The rules for `osc.targets` and `webhooks`, as convict formats use them: each check throws an
 * Error whose message completes "<key>: …", so a bad value stops start-up naming the key and
 * the entry at fault.
 */

/** What a webhook may subscribe to. */
export const WEBHOOK_EVENTS = [
  'job.done',
  'job.failed',
  'source.down',
  'source.up',
  'display.connected',
  'display.lost',
  'playlist.step',
  'canvas.created',
] as const;

export type WebhookEventName = (typeof WEBHOOK_EVENTS)[number];

export interface WebhookConfig {
  url: string;
  events: WebhookEventName[];
  secret: string;
}

export const MIN_WEBHOOK_SECRET = 16;
export const MAX_WEBHOOK_SECRET = 256;
export const MAX_WEBHOOKS = 16;
export const MAX_OSC_TARGETS = 16;

export interface OscTarget {
  host: string;
  port: number;
}

const HOST = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)*$/;

/** "host:port" → its parts, or undefined when it is not one (IPv4 address or host name; port 1-65535). */
export function parseOscTarget(text: unknown): OscTarget | undefined {
  if (typeof text !== 'string') return undefined;
  const match = /^([^:\s]+):(\d{1,5})$/.exec(text.trim());
  if (!match) return undefined;
  const port = Number(match[2]);
  if (port < 1 || port > 65_535 || !HOST.test(match[1]!)) return undefined;
  return { host: match[1]!, port };
}

/** Text from the environment: a comma-separated list (or JSON). */
export function toOscTargetList(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const json = v.trim().startsWith('[') ? parseJson(v) : v;
  if (json !== v) return json;
  return v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

export function checkOscTargets(v: unknown): void {
  if (!Array.isArray(v)) throw new Error('must be a list of host:port, e.g. ["10.0.0.20:7000"]');
  if (v.length > MAX_OSC_TARGETS) throw new Error(`has ${v.length} targets, the most is ${MAX_OSC_TARGETS}`);
  v.forEach((t, i) => {
    if (!parseOscTarget(t)) {
      throw new Error(
        `[${i}] ${JSON.stringify(String(t).slice(0, 100))} is not host:port (an IPv4 address or host name, port 1-65535), e.g. 10.0.0.20:7000`,
      );
    }
  });
}

/** Text from the environment is JSON; text that is not stays text, and the check names the key. */
export function toWebhookList(v: unknown): unknown {
  return typeof v === 'string' ? parseJson(v) : v;
}

export function checkWebhooks(v: unknown): void {
  if (!Array.isArray(v)) throw new Error('must be a list of {url, events, secret}');
  if (v.length > MAX_WEBHOOKS) throw new Error(`has ${v.length} hooks, the most is ${MAX_WEBHOOKS}`);
  v.forEach((hook, i) => {
    const at = `[${i}]`;
    if (typeof hook !== 'object' || hook === null || Array.isArray(hook)) throw new Error(`${at} must be an object {url, events, secret}`);
    const extra = Object.keys(hook).filter((k) => !['url', 'events', 'secret'].includes(k));
    if (extra.length > 0) throw new Error(`${at}.${extra[0]} is not a webhook setting: use url, events and secret`);
    const { url, events, secret } = hook as Record<string, unknown>;
    if (!isHttpUrl(url)) throw new Error(`${at}.url must be an http:// or https:// URL, e.g. https://chat.example/hooks/easel`);
    if (!Array.isArray(events) || events.length === 0) {
      throw new Error(`${at}.events must be a non-empty list of ${WEBHOOK_EVENTS.join(', ')}`);
    }
    const unknown = events.find((e) => !(WEBHOOK_EVENTS as readonly unknown[]).includes(e));
    if (unknown !== undefined) {
      throw new Error(`${at}.events: ${JSON.stringify(String(unknown).slice(0, 60))} is not an event; use ${WEBHOOK_EVENTS.join(', ')}`);
    }
    if (typeof secret !== 'string' || secret.length < MIN_WEBHOOK_SECRET || secret.length > MAX_WEBHOOK_SECRET) {
      const length = typeof secret === 'string' ? `is ${secret.length} characters` : 'is missing';
      throw new Error(
        `${at}.secret ${length}; it must be ${MIN_WEBHOOK_SECRET} to ${MAX_WEBHOOK_SECRET} characters (make one with: openssl rand -hex 32)`,
      );
    }
  });
}

function isHttpUrl(v: unknown): boolean {
  if (typeof v !== 'string' || v.length > 2048) return false;
  try {
    const url = new URL(v);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
