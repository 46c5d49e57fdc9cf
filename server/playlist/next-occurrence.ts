/**
 * When a daily start time next comes round. Pure: the caller reads the clock and passes `now`.
 * Times are wall-clock "HH:MM" in the machine's local time zone (through Date's local
 * calendar arithmetic) or in `timeZone` (an IANA name, through Intl), so a show set for 18:30
 * starts at 18:30 on both sides of a daylight-saving change. A time that does not exist that
 * day (skipped by a spring-forward change) starts as the clock jumps, like Date does; a time
 * that happens twice (fall-back) starts at the first.
 */
import { WEEKDAYS, type Weekday } from './playlist-types.js';

/**
 * The first moment strictly after `now` that is one of `times` on one of `days` (every day when
 * absent), or undefined when there is none (no times, or an empty list of days).
 *
 * @example
 * nextOccurrence(new Date(2024, 5, 3, 19, 0), ['18:30']) // 2024-06-04 18:30 local: passed today
 * nextOccurrence(Date.UTC(2024, 2, 30, 12), ['18:30'], undefined, 'Europe/Paris') // 2024-03-30T17:30:00Z
 */
export function nextOccurrence(
  now: Date | number,
  times: readonly string[],
  days?: readonly Weekday[],
  timeZone?: string,
): Date | undefined {
  const at = typeof now === 'number' ? now : now.getTime();
  const clock = times.map(parseTime);
  const allowed = days === undefined ? undefined : new Set(days.map((d) => WEEKDAYS.indexOf(d)));
  if (clock.length === 0 || allowed?.size === 0) return undefined;
  const today = timeZone === undefined ? localDate(at) : zonedDate(at, timeZone);
  let best: number | undefined;
  // Eight days: today's times may all have passed, and a weekly show comes back after seven.
  for (let offset = 0; offset <= 7 && best === undefined; offset++) {
    const { year, month, day } = today;
    const weekday = new Date(Date.UTC(year, month, day + offset)).getUTCDay();
    if (allowed && !allowed.has(weekday)) continue;
    for (const [hour, minute] of clock) {
      const candidate =
        timeZone === undefined
          ? new Date(year, month, day + offset, hour, minute).getTime()
          : zonedToEpoch(year, month, day + offset, hour, minute, timeZone);
      if (candidate > at && (best === undefined || candidate < best)) best = candidate;
    }
  }
  return best === undefined ? undefined : new Date(best);
}

function parseTime(time: string): [number, number] {
  const match = /^(\d{1,2}):(\d{2})$/.exec(time);
  if (!match || Number(match[1]) > 23 || Number(match[2]) > 59)
    throw new RangeError(`Expected a time "HH:MM" for nextOccurrence but received "${time}"`);
  return [Number(match[1]), Number(match[2])];
}

interface CalendarDate {
  year: number;
  month: number; // 0-11, as Date
  day: number;
}

function localDate(at: number): CalendarDate {
  const d = new Date(at);
  return { year: d.getFullYear(), month: d.getMonth(), day: d.getDate() };
}

const formats = new Map<string, Intl.DateTimeFormat>();

/** The wall-clock time at `at` in `timeZone`, written as if it were UTC (ms, seconds dropped). */
function wallClock(at: number, timeZone: string): number {
  let format = formats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
    });
    formats.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const p of format.formatToParts(at)) if (p.type !== 'literal') parts[p.type] = Number(p.value);
  return Date.UTC(parts.year!, parts.month! - 1, parts.day!, parts.hour!, parts.minute!);
}

function zonedDate(at: number, timeZone: string): CalendarDate {
  const d = new Date(wallClock(at, timeZone));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth(), day: d.getUTCDate() };
}

/** The epoch ms at which `timeZone`'s clocks read this date and time (see the module comment for gaps and repeats). */
function zonedToEpoch(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month, day, hour, minute);
  const offsetAt = (t: number) => wallClock(t, timeZone) - Math.floor(t / 60_000) * 60_000;
  const before = offsetAt(wall - 86_400_000);
  const after = offsetAt(wall + 86_400_000);
  const fits = [wall - before, wall - after].filter((t) => wallClock(t, timeZone) === wall);
  return fits.length > 0 ? Math.min(...fits) : wall - before;
}
