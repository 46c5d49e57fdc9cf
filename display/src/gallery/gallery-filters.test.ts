import { describe, expect, it } from 'vitest';
import { downloadName } from './archive-api.js';
import { readFilters, sameFilters, writeFilters } from './gallery-filters.js';

describe('gallery filters in the address', () => {
  it('reads every filter, trimmed', () => {
    expect(readFilters('?canvas=wall-1&q=%20foggy%20harbour%20&day=2026-12-01&starred=true')).toEqual({
      canvas: 'wall-1',
      q: 'foggy harbour',
      day: '2026-12-01',
      starred: true,
    });
  });

  it('drops what it cannot send: empty values, a malformed day, starred other than true', () => {
    expect(readFilters('?canvas=&q=%20&day=yesterday&starred=1')).toEqual({});
    expect(readFilters('?day=2026-12-1')).toEqual({});
  });

  it('cuts an oversized prompt filter instead of sending it', () => {
    expect(readFilters(`?q=${'a'.repeat(5000)}`).q).toHaveLength(200);
  });

  it('writes the filters and keeps the other parameters (token, entry)', () => {
    expect(writeFilters('?token=abc&q=old&entry=x', { canvas: 'wall-1', starred: true })).toBe(
      '?token=abc&entry=x&canvas=wall-1&starred=true',
    );
    expect(writeFilters('?q=old', {})).toBe('');
    expect(readFilters(writeFilters('', { q: 'a & b=c', day: '2026-12-01' }))).toEqual({ q: 'a & b=c', day: '2026-12-01' });
  });

  it('compares filters by value', () => {
    expect(sameFilters({ canvas: 'a' }, { canvas: 'a' })).toBe(true);
    expect(sameFilters({ canvas: 'a' }, { canvas: 'a', starred: true })).toBe(false);
  });
});

describe('download names', () => {
  it('names the original by canvas and time, with its type', () => {
    expect(downloadName({ id: 'wall-1.20261201.190512345-ab12cd34', canvas: 'wall-1', mime: 'image/png' })).toBe(
      'wall-1-2026-12-01-190512345.png',
    );
    expect(downloadName({ id: 'a.20261201.000000001-00000000', canvas: 'a', mime: 'image/jpeg' })).toBe('a-2026-12-01-000000001.jpg');
  });
});
