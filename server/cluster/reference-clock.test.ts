import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createReferenceClock } from './reference-clock.js';

describe('reference clock', () => {
  const make = () => {
    const local = new FakeClock(1_000_000);
    return { local, ref: createReferenceClock({ local, slewPpm: 200, stepMs: 10 }) };
  };

  it('is the local clock until it has an estimate, then steps to the first one at once', () => {
    const { local, ref } = make();
    expect(ref.now()).toBe(1_000_000);
    expect(ref.targetMs).toBeUndefined();
    ref.steer(2000);
    expect(ref.now()).toBe(1_002_000);
    expect(ref.steps).toBe(1);
    local.advance(500);
    expect(ref.now()).toBe(1_002_500);
  });

  it('takes a first estimate behind the local clock whole, without holding still', () => {
    const { local, ref } = make();
    expect(ref.now()).toBe(1_000_000);
    ref.steer(-3_600_000); // this node's clock is an hour ahead
    expect(ref.now()).toBe(1_000_000 - 3_600_000);
    local.advance(250);
    expect(ref.now()).toBe(1_000_250 - 3_600_000);
  });

  it('slews a small change at most slewPpm, so displays follow it within their own error', () => {
    const { local, ref } = make();
    ref.steer(100);
    ref.steer(104);
    expect(ref.correctionMs).toBe(100);
    local.advance(10_000); // 10 s at 200 ppm: 2 ms
    expect(ref.correctionMs).toBeCloseTo(102, 6);
    local.advance(10_000);
    expect(ref.correctionMs).toBeCloseTo(104, 6);
    local.advance(10_000);
    expect(ref.correctionMs).toBe(104); // reached, and stays
    expect(ref.steps).toBe(1);
  });

  it('slews backwards without ever running backwards', () => {
    const { local, ref } = make();
    ref.steer(0);
    ref.steer(-8);
    let last = ref.now();
    for (let i = 0; i < 100; i++) {
      local.advance(1000);
      const t = ref.now();
      expect(t).toBeGreaterThan(last);
      last = t;
    }
    expect(ref.correctionMs).toBe(-8);
  });

  it('steps a change larger than stepMs, or a jump the estimator found, instead of slewing for minutes', () => {
    const { local, ref } = make();
    ref.steer(0);
    ref.steer(50);
    expect(ref.correctionMs).toBe(50);
    ref.steer(52, true);
    expect(ref.correctionMs).toBe(52);
    expect(ref.steps).toBe(3);
    local.advance(1);
    expect(ref.now()).toBe(1_000_053);
  });

  it('holds still after a step back until the local clock catches up: presentAt never goes back', () => {
    const { local, ref } = make();
    ref.steer(2000);
    const before = ref.now();
    ref.steer(0); // the reference moved 2 s back (a Redis host's clock was stepped)
    expect(ref.correctionMs).toBe(0);
    const seen: number[] = [];
    for (let i = 0; i < 30; i++) {
      local.advance(100);
      seen.push(ref.now());
    }
    expect(seen.every((t, i) => t >= (i === 0 ? before : seen[i - 1]!))).toBe(true);
    expect(seen[5]).toBe(before); // held: 600 ms of local time against 2 s it had to give back
    expect(seen.at(-1)).toBe(local.now());
  });

  it('ignores an offset that is not a number, and keeps the local clock’s timers', () => {
    const { local, ref } = make();
    ref.steer(Number.NaN);
    expect(ref.targetMs).toBeUndefined();
    let fired = 0;
    ref.setTimeout(() => fired++, 100);
    const cancelled = ref.setTimeout(() => fired++, 100);
    ref.clearTimeout(cancelled);
    local.advance(100);
    expect(fired).toBe(1);
  });
});
