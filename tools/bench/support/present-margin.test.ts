import { describe, expect, it } from 'vitest';
import { presentAtOf, presentMargin } from './present-margin.js';

describe('presentMargin', () => {
  it('reads presentAt from a header and NaN when there is none', () => {
    expect(presentAtOf('{"type":"frame","seq":3,"presentAt":1764590400300,"mime":"image/webp"}')).toBe(1764590400300);
    expect(presentAtOf('{"type":"frame","seq":3,"mime":"image/webp"}')).toBeNaN();
  });

  it('measures presentAt − arrival over the window, and the share that came late', () => {
    const records = [
      { at: [900, 1000, 1100, 1200], presentAt: [1300, 1300, 1400, 1150] },
      { at: [1050], presentAt: [Number.NaN] },
    ];
    const m = presentMargin(records, 1000, 1250)!;
    expect(m.n).toBe(3); // 900 is before the window, the NaN has no presentAt
    expect(m.marginMs.min).toBe(-50);
    expect(m.marginMs.p50).toBe(300);
    expect(m.lateFraction).toBeCloseTo(1 / 3);
  });

  it('is absent when no header carried presentAt', () => {
    expect(presentMargin([{ at: [1000] }, { at: [1000], presentAt: [Number.NaN] }], 0, 2000)).toBeUndefined();
  });
});
