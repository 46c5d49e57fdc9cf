import { describe, expect, it } from 'vitest';
import { parseArchiveTime } from './archive-time.js';

describe('parseArchiveTime', () => {
  it('reads UTC and offset times exactly, and times without a zone as server local time', () => {
    expect(parseArchiveTime('2026-12-01T20:00Z')).toBe(Date.UTC(2026, 11, 1, 20, 0));
    expect(parseArchiveTime('2026-12-01T20:00:05.25z')).toBe(Date.UTC(2026, 11, 1, 20, 0, 5, 250));
    expect(parseArchiveTime('2026-12-01T21:30+01:30')).toBe(Date.UTC(2026, 11, 1, 20, 0));
    expect(parseArchiveTime('2026-12-01T15:00-0500')).toBe(Date.UTC(2026, 11, 1, 20, 0));
    // The + of an offset sent unencoded in a query arrives as a space.
    expect(parseArchiveTime('2026-12-01T21:30 01:30')).toBe(Date.UTC(2026, 11, 1, 20, 0));
    expect(parseArchiveTime('2026-12-01T20:00')).toBe(new Date(2026, 11, 1, 20, 0).getTime());
    expect(parseArchiveTime('2026-12-01 20:00:07')).toBe(new Date(2026, 11, 1, 20, 0, 7).getTime());
    expect(parseArchiveTime('2026-12-01')).toBe(new Date(2026, 11, 1).getTime());
    expect(parseArchiveTime(' 2026-12-01 ')).toBe(new Date(2026, 11, 1).getTime());
  });

  it.each([
    ['yesterday'],
    ['2026-02-30'],
    ['2026-13-01'],
    ['2026-12-01T24:00'],
    ['2026-12-01T20:60'],
    ['2026-12-01T20'],
    ['2026-12-01Z'],
    ['2026-12-01T20:00+15:00'],
    ['1796155200000'],
    [''],
    [42],
    [null],
  ])('refuses %j', (raw) => {
    expect(parseArchiveTime(raw)).toBeUndefined();
  });
});
