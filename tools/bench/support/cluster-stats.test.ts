import { describe, expect, it } from 'vitest';
import { longestInterval, orderViolations, outageGap, seqSpreads, windowFps } from './cluster-stats.js';

describe('seqSpreads', () => {
  const t0 = 1_700_000_000_000;
  const display = (group: string, seqs: number[], lag: number[], presentAt = seqs.map((s) => t0 + s * 250 + 300)) => ({
    group,
    seqs,
    at: seqs.map((s, i) => t0 + s * 250 + lag[i]!),
    presentAt,
  });

  it('spreads arrival over all displays and node against node, and presentAt', () => {
    const records = [
      display('a', [1, 2], [1, 2]),
      display('a', [1, 2], [3, 4]),
      display('b', [1, 2], [10, 6]),
      display('b', [1, 2], [12, 6], [t0 + 250 + 300, t0 + 500 + 305]),
    ];
    const s = seqSpreads(records, t0, t0 + 10_000);
    expect(s.seqs).toBe(2);
    expect(s.arrivalMs).toEqual([11, 4]);
    // seq 1: medians a 2, b 11; seq 2: medians a 3, b 6.
    expect(s.groupMedianMs).toEqual([9, 3]);
    expect(s.presentAtMs).toEqual([0, 5]);
  });

  it('leaves out seqs a group did not see and arrivals outside the window', () => {
    const records = [display('a', [1, 2, 3], [1, 1, 1]), display('b', [1, 3], [5, 2])];
    const s = seqSpreads(records, t0, t0 + 3 * 250);
    expect(s.seqs).toBe(1);
    expect(s.arrivalMs).toEqual([4]);
  });
});

describe('windowFps', () => {
  it('counts arrivals inside the half-open window', () => {
    expect(windowFps([0, 250, 500, 750, 1000], 0, 1000)).toBe(4);
  });
});

describe('outageGap', () => {
  const at = [0, 250, 500, 750, 760, 4200, 4450, 4700, 4950, 9000, 9250];
  const seqs = [1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 13];

  it('is the first hole after the kill, even when an in-flight frame lands just after it and a longer hole comes later', () => {
    expect(outageGap(at, seqs, 755, 30_000)).toEqual({ gapMs: 3440, killToResumeMs: 3445, seqJump: 3 });
  });

  it('is undefined when frames had not resumed within the horizon, or none came before the kill', () => {
    expect(outageGap(at, seqs, 755, 2000)).toBeUndefined();
    expect(outageGap(at, seqs, 9300, 10_000)).toBeUndefined();
    expect(outageGap([5000, 5250], [1, 2], 755, 10_000)).toBeUndefined();
  });
});

describe('longestInterval', () => {
  it('looks only at intervals wholly inside the range', () => {
    const at = [0, 250, 500, 750, 760, 4200, 4450, 4700, 4950, 9000, 9250];
    expect(longestInterval(at, 4200, 8000)).toBe(250);
    expect(longestInterval(at, 4200, 9000)).toBe(4050);
    expect(longestInterval([1], 0, 10)).toBe(0);
  });
});

describe('orderViolations', () => {
  it('counts seqs that do not rise and presentAt that goes back, skipping NaN', () => {
    expect(orderViolations([1, 2, 2, 5, 4], [10, Number.NaN, 20, 15, 30])).toEqual({ seqNotRising: 2, presentAtBackwards: 1 });
  });
});
