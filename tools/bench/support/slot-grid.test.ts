import { describe, expect, it } from 'vitest';
import { alignedWindow, estimateSlotPhase, slotAtOrBefore } from './slot-grid.js';

describe('estimateSlotPhase', () => {
  it('finds the phase from first arrivals that lag their slots a little', () => {
    const origin = 1_700_000_000_123.25;
    const arrivals = Array.from({ length: 40 }, (_, k) => origin + k * 250 + 0.5 + (k % 5) * 0.8);
    const { phase, spanMs } = estimateSlotPhase(arrivals, 250);
    expect(phase).toBeCloseTo((origin + 0.5) % 250, 3);
    expect(spanMs).toBeCloseTo(3.2, 3);
  });

  it('handles a cluster that wraps round the end of the period', () => {
    // Slots at 248 mod 250; arrivals 1-4 ms later land at 249..252, i.e. 249, 0, 1, 2.
    const arrivals = [248 + 1, 498 + 2, 748 + 3, 998 + 4, 1248 + 1.5];
    const { phase, spanMs } = estimateSlotPhase(arrivals, 250);
    expect(phase).toBeCloseTo(249, 6);
    expect(spanMs).toBeCloseTo(3, 6);
    expect(slotAtOrBefore(998 + 4, phase, 250)).toBeCloseTo(999, 6);
  });

  it('says NaN when there is nothing to go on', () => {
    expect(estimateSlotPhase([], 250).phase).toBeNaN();
  });
});

describe('alignedWindow', () => {
  it('starts half a period after a slot, at or after the start asked for', () => {
    const w = alignedWindow(1000, 3000, 10, 250);
    expect(w.start).toBe(1135);
    expect(w.slots).toBe(7);
    expect(w.end).toBe(1135 + 7 * 250);
  });
});
