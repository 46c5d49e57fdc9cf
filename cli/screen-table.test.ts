import { describe, expect, it } from 'vitest';
import { formatScreenTable } from './screen-table.js';

const sync = (errorMs: number, framesLate = 0, framesShown = 400) => ({
  rttMs: 6,
  errorMs,
  framesShown,
  framesLate,
  reportedAt: '2026-12-01T14:00:00.000Z',
});
const good = { id: 1, address: '10.0.0.4', wire: 'v2', rendition: 'webp-1920', clockOffsetMs: 1.2, sync: sync(2.5) };
const bad = {
  id: 2,
  address: '10.0.0.5',
  wire: 'v2',
  rendition: 'webp-1920',
  clockOffsetMs: 3_200,
  sync: { ...sync(40, 3, 1_200), rttMs: 48 },
};
const seed = { id: 3, address: '10.0.0.6', wire: 'json', rendition: 'jpeg-1024', clockOffsetMs: null, sync: null };

describe('formatScreenTable', () => {
  it('lists each screen worst first with its protocol, rendition, clock offset, round trip, error and late frames', () => {
    expect(formatScreenTable({ slug: 'lobby', displayList: [good, seed, bad] })!.split('\n')).toEqual([
      'Screens (3, 1 marked !), worst first:',
      'SCREEN      PROTOCOL  RENDITION  CLOCK OFFSET  ROUND TRIP    ERROR  LATE/SHOWN  NOTE',
      "! 10.0.0.5  v2        webp-1920        +3.2 s       48 ms   ±40 ms     3/1,200  this screen's clock is uncertain to ±40 ms: check its network; 3 of 1,200 frames came too late to show in step",
      '10.0.0.6    JSON      jpeg-1024             -           -        -           -  no sync report (seed or v1 client)',
      '10.0.0.4    v2        webp-1920       +1.2 ms        6 ms  ±2.5 ms       0/400',
    ]);
  });

  it('names a screen by its id when the address is withheld (no operator token)', () => {
    const { address: _hidden, ...anonymous } = bad;
    expect(formatScreenTable({ slug: 'lobby', displayList: [anonymous] })).toContain('\n! display 2  ');
  });

  it('shows the worst 50 of a big wall and says how many more there are', () => {
    const many = Array.from({ length: 2_000 }, (_, i) => ({ ...good, id: i + 10, address: `10.1.${i >> 8}.${i & 255}` }));
    many[1_500] = { ...bad, id: 9 };
    const lines = formatScreenTable({ slug: 'lobby', displayList: many })!.split('\n');
    expect(lines).toHaveLength(2 + 50 + 1);
    expect(lines[0]).toBe('Screens (2,000, 1 marked !), worst first:');
    expect(lines[2]).toMatch(/^! 10\.0\.0\.5 /);
    expect(lines.at(-1)).toBe('… and 1,950 more (--json lists them all)');
  });

  it('says when no screen is connected, and is absent for a list of canvases or an older server', () => {
    expect(formatScreenTable({ slug: 'lobby', displayList: [] })).toBe('Screens: none connected');
    expect(formatScreenTable({ canvases: [] })).toBeUndefined();
    expect(formatScreenTable({ slug: 'lobby' })).toBeUndefined();
    expect(formatScreenTable({ slug: 'lobby', displayList: [null, 'x', { id: 5, sync: 'garbage' }] })).toContain('display 5');
  });
});
