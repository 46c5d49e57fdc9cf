import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from './duration.js';

describe('parseDuration', () => {
  it.each([
    [30, 30_000],
    [1.5, 1500],
    ['30', 30_000],
    ['45s', 45_000],
    ['2m', 120_000],
    ['1.5m', 90_000],
    ['1h30m', 5_400_000],
    ['1m 30s', 90_000],
    ['500ms', 500],
    ['2M', 120_000],
  ])('reads %j as %d ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each(['', 'soon', '5 minutes', '1m1m', '10x', '-5s', 'm', null, true, Number.NaN])('refuses %j', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});

describe('formatDuration', () => {
  it('writes the shortest form back', () => {
    expect([45_000, 120_000, 90_000, 5_400_000, 1500, 250, 3_600_000].map(formatDuration)).toEqual([
      '45s',
      '2m',
      '1m30s',
      '1h30m',
      '1.5s',
      '250ms',
      '1h',
    ]);
  });
});
