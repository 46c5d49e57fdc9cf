const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * A frame's time (ISO timestamp or epoch ms) as local wall-clock time with milliseconds, as the
 * seed showed it. An unreadable timestamp gives an empty string (nothing shown) rather than "NaN".
 *
 * @example
 * formatFrameTime('2026-11-21T12:00:00.250Z') // '13:00:00.250' in Paris
 */
export function formatFrameTime(time: string | number): string {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) return '';
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}.${pad(date.getMilliseconds(), 3)}`;
}
