/**
 * What a reader without the operator token does not see (README "Tokens and security"): client
 * addresses (who sent a command, where a display is) and where things live on the server. An
 * absolute path keeps its last part (`/srv/art/closing.jpg` → `…/closing.jpg`), so a venue still
 * sees what a canvas shows; everything else (states, counts, prompts, frames) stays.
 */
const HIDDEN_KEYS = new Set(['who', 'address', 'remoteAddress']);

/**
 * An absolute path in running text: starts a word, has no URL before it, and is not one of the
 * server's own URL paths or OSC addresses that hints name on purpose.
 */
const ABSOLUTE_PATH = /(?<![\w.:/~%-])\/(?!(?:api|ws|c|easel)\/|(?:wall|operator|healthz|readyz|metrics)\b)[^\s"'`,;()<>[\]{}|]+/g;

export function redactText(text: string): string {
  return text.replace(ABSOLUTE_PATH, (p) => {
    const trimmed = p.replace(/\/+$/, '');
    const last = trimmed.slice(trimmed.lastIndexOf('/') + 1);
    return last === '' ? '…' : `…/${last}`;
  });
}

/** A deep copy of a JSON value with addresses dropped and absolute paths shortened. */
export function redact<T>(value: T): T {
  return value === undefined ? value : strip(JSON.parse(JSON.stringify(value)) as T);
}

function strip<T>(value: T): T {
  if (typeof value === 'string') return redactText(value) as T;
  if (Array.isArray(value)) return value.map((v) => strip(v)) as T;
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
    if (!HIDDEN_KEYS.has(key)) out[key] = strip(v);
  }
  return out as T;
}
