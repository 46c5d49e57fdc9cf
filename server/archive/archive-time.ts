/**
 * The times a person types to pick archived frames (`--from`, a playlist step's `from:`, the
 * source command's `from`): ISO 8601 dates and date-times. A time without a zone is server
 * local time, like the archive's day folders; a bare date is local midnight. A space before the
 * offset is the `+` of an offset sent unencoded in a query (`+` reads as a space there). Pure.
 */

const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3})\d*)?)?(Z|[+ -]\d{2}(?::?\d{2})?)?)?$/i;

export const ARCHIVE_TIME_EXPECTED = 'an ISO time like "2026-12-01T20:00"';
export const ARCHIVE_TIME_HINT =
  'Write a date and time such as 2026-12-01T20:00 (server local time), 2026-12-01T20:00Z (UTC) or a date alone, 2026-12-01 (local midnight)';

/**
 * Epoch ms, or undefined when `raw` is not a real ISO date or date-time.
 *
 * @example
 * parseArchiveTime('2026-12-01T20:00Z') // 1796155200000
 * parseArchiveTime('2026-02-30') // undefined
 */
export function parseArchiveTime(raw: unknown): number | undefined {
  if (typeof raw !== 'string') return undefined;
  const m = ISO.exec(raw.trim());
  if (!m) return undefined;
  const [y, mo, d, h = 0, mi = 0, s = 0] = m.slice(1, 7).map((v) => (v === undefined ? undefined : Number(v))) as number[];
  const ms = m[7] ? Number(m[7].padEnd(3, '0')) : 0;
  if (mo! < 1 || mo! > 12 || d! < 1 || d! > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  // Round-trips through UTC fields to refuse days a month does not have (2026-02-30).
  const asUtc = Date.UTC(y!, mo! - 1, d!, h, mi, s, ms);
  const check = new Date(asUtc);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo! - 1 || check.getUTCDate() !== d) return undefined;
  const zone = m[8];
  if (zone === undefined) return new Date(y!, mo! - 1, d!, h, mi, s, ms).getTime();
  if (zone.toUpperCase() === 'Z') return asUtc;
  const sign = zone.startsWith('-') ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offset = Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || '0');
  if (offset > 14 * 60) return undefined;
  return asUtc - sign * offset * 60_000;
}
