import { describe, expect, it } from 'vitest';
import { nextOccurrence } from './next-occurrence.js';

/** Local wall-clock time, as the machine running the test sees it. */
const local = (y: number, mo: number, d: number, h = 0, mi = 0) => new Date(y, mo - 1, d, h, mi);
const iso = (date: Date | undefined) => date?.toISOString();

describe('nextOccurrence in local time', () => {
  it('is later today when the time has not come yet', () => {
    expect(nextOccurrence(local(2024, 6, 3, 12, 0), ['18:30'])).toEqual(local(2024, 6, 3, 18, 30));
  });

  it('is tomorrow when the time has already passed today', () => {
    expect(nextOccurrence(local(2024, 6, 3, 19, 0), ['18:30'])).toEqual(local(2024, 6, 4, 18, 30));
  });

  it('is strictly after now, so a start that just fired is not due again', () => {
    expect(nextOccurrence(local(2024, 6, 3, 18, 30), ['18:30'])).toEqual(local(2024, 6, 4, 18, 30));
    expect(nextOccurrence(local(2024, 6, 3, 18, 29).getTime() + 59_999, ['18:30'])).toEqual(local(2024, 6, 3, 18, 30));
  });

  it('takes the nearest of several times, across midnight', () => {
    expect(nextOccurrence(local(2024, 6, 3, 23, 50), ['18:30', '00:10'])).toEqual(local(2024, 6, 4, 0, 10));
    expect(nextOccurrence(local(2024, 6, 4, 0, 20), ['18:30', '00:10'])).toEqual(local(2024, 6, 4, 18, 30));
  });

  it('rolls over the end of a month and a year', () => {
    expect(nextOccurrence(local(2024, 12, 31, 23, 0), ['07:00'])).toEqual(local(2025, 1, 1, 7, 0));
    expect(nextOccurrence(local(2024, 2, 28, 20, 0), ['07:00'])).toEqual(local(2024, 2, 29, 7, 0));
  });

  it('keeps to the days listed, up to a week ahead', () => {
    const friday = local(2024, 6, 7, 20, 0); // a Friday
    expect(nextOccurrence(friday, ['18:30'], ['mon'])).toEqual(local(2024, 6, 10, 18, 30));
    expect(nextOccurrence(friday, ['21:00'], ['fri'])).toEqual(local(2024, 6, 7, 21, 0));
    expect(nextOccurrence(friday, ['18:30'], ['fri'])).toEqual(local(2024, 6, 14, 18, 30));
    expect(nextOccurrence(friday, ['18:30'], ['sat', 'sun'])).toEqual(local(2024, 6, 8, 18, 30));
  });

  it('keeps the wall-clock time across daylight-saving changes in whatever zone the machine is in', () => {
    // The European and US change weekends of 2024; in UTC this is trivially true.
    for (const [y, mo, d] of [
      [2024, 3, 9],
      [2024, 3, 30],
      [2024, 10, 26],
      [2024, 11, 2],
    ] as const) {
      for (const time of ['18:30', '01:30', '12:00']) {
        let at: Date = local(y, mo, d, 12, 0);
        for (let i = 0; i < 3; i++) {
          at = nextOccurrence(at, [time])!;
          expect([at.getHours(), at.getMinutes()].map((n) => String(n).padStart(2, '0')).join(':')).toBe(time);
        }
      }
    }
  });

  it('has no next time without times or with an empty list of days', () => {
    expect(nextOccurrence(local(2024, 6, 3), [])).toBeUndefined();
    expect(nextOccurrence(local(2024, 6, 3), ['18:30'], [])).toBeUndefined();
  });

  it('refuses a malformed time as a programmer error', () => {
    expect(() => nextOccurrence(local(2024, 6, 3), ['6pm'])).toThrow(RangeError);
  });
});

describe('nextOccurrence in a named time zone', () => {
  it('keeps 18:30 at 18:30 on both sides of a spring-forward change', () => {
    // Paris moves from UTC+1 to UTC+2 on 2024-03-31 at 02:00.
    const saturday = nextOccurrence(Date.UTC(2024, 2, 30, 12), ['18:30'], undefined, 'Europe/Paris');
    expect(iso(saturday)).toBe('2024-03-30T17:30:00.000Z');
    expect(iso(nextOccurrence(saturday!, ['18:30'], undefined, 'Europe/Paris'))).toBe('2024-03-31T16:30:00.000Z');
  });

  it('keeps 18:30 at 18:30 on both sides of a fall-back change', () => {
    // New York moves from UTC-4 to UTC-5 on 2024-11-03 at 02:00.
    const saturday = nextOccurrence(Date.UTC(2024, 10, 2, 12), ['18:30'], undefined, 'America/New_York');
    expect(iso(saturday)).toBe('2024-11-02T22:30:00.000Z');
    expect(iso(nextOccurrence(saturday!, ['18:30'], undefined, 'America/New_York'))).toBe('2024-11-03T23:30:00.000Z');
  });

  it('starts a time skipped by the change as the clock jumps, and a repeated time at its first', () => {
    expect(iso(nextOccurrence(Date.UTC(2024, 2, 30, 12), ['02:30'], ['sun'], 'Europe/Paris'))).toBe('2024-03-31T01:30:00.000Z'); // 03:30 CEST
    expect(iso(nextOccurrence(Date.UTC(2024, 9, 26, 12), ['02:30'], ['sun'], 'Europe/Paris'))).toBe('2024-10-27T00:30:00.000Z'); // the first 02:30
  });

  it('counts days by the zone calendar, not UTC', () => {
    const justAfterMidnightInParis = Date.UTC(2024, 5, 1, 22, 30); // 00:30 on June 2 in Paris
    expect(iso(nextOccurrence(justAfterMidnightInParis, ['01:00'], undefined, 'Europe/Paris'))).toBe('2024-06-01T23:00:00.000Z');
    expect(iso(nextOccurrence(justAfterMidnightInParis, ['00:15'], undefined, 'Europe/Paris'))).toBe('2024-06-02T22:15:00.000Z');
    expect(iso(nextOccurrence(justAfterMidnightInParis, ['09:00'], ['sun'], 'Europe/Paris'))).toBe('2024-06-02T07:00:00.000Z'); // June 2 is a Sunday
  });
});
