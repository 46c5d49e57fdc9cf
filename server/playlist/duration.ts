/**
 * Durations as people write them in a playlist: `45s`, `2m`, `1h30m`, `1.5m`, `500ms`, or a
 * bare number of seconds. Pure.
 */

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const PART = /(\d+(?:\.\d+)?)(ms|h|m|s)/y;

/**
 * Milliseconds for a duration, or undefined when it is not one. Bounds are the caller's job.
 *
 * @example
 * parseDuration('1m30s') // 90000
 * parseDuration(30)      // 30000
 * parseDuration('soon')  // undefined
 */
export function parseDuration(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.round(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const text = value.trim().toLowerCase().replace(/\s+/g, '');
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  let total = 0;
  let at = 0;
  const seen = new Set<string>();
  PART.lastIndex = 0;
  while (at < text.length) {
    PART.lastIndex = at;
    const match = PART.exec(text);
    if (!match || seen.has(match[2]!)) return undefined;
    seen.add(match[2]!);
    total += Number(match[1]) * UNIT_MS[match[2]!]!;
    at = PART.lastIndex;
  }
  return text.length > 0 ? Math.round(total) : undefined;
}

/**
 * The shortest way to write a duration back: `45s`, `2m`, `1h30m`, `1.5s`.
 *
 * @example
 * formatDuration(90_000) // '1m30s'
 */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  let rest = ms;
  let out = '';
  for (const unit of ['h', 'm'] as const) {
    const n = Math.floor(rest / UNIT_MS[unit]!);
    if (n > 0) out += `${n}${unit}`;
    rest -= n * UNIT_MS[unit]!;
  }
  if (rest > 0 || out === '') out += `${Number((rest / 1000).toFixed(3))}s`;
  return out;
}
