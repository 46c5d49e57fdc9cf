import vm from 'node:vm';
import { describe, expect, it } from 'vitest';
import { clockShiftScript } from './clock-shift.js';

/** Runs the script in a fresh context with a performance clock of its own, as a page would. */
function shiftedContext(shiftMs: number) {
  const context = vm.createContext({ performance: { timeOrigin: 1_000_000, now: () => 250 } });
  vm.runInContext(clockShiftScript(shiftMs), context);
  return context;
}

describe('the clock shift init script', () => {
  it('moves Date.now, new Date(), Date() and performance.timeOrigin, and keeps dates from values and the real time as they were', () => {
    const context = shiftedContext(5_000);
    const seen = vm.runInContext(
      `({
        now: Date.now() - __easelRealNow(),
        object: new Date().getTime() - __easelRealNow(),
        string: Date.parse(Date()) - __easelRealNow(),
        fromValue: new Date(86400000).toISOString(),
        isDate: new Date() instanceof Date,
        origin: performance.timeOrigin,
        elapsed: performance.now(),
      })`,
      context,
    );
    expect(Math.abs(seen.now - 5_000)).toBeLessThan(50);
    expect(Math.abs(seen.object - 5_000)).toBeLessThan(50);
    // Date() has whole seconds only.
    expect(Math.abs(seen.string - 5_000)).toBeLessThan(1_050);
    expect(seen).toMatchObject({ fromValue: '1970-01-02T00:00:00.000Z', isDate: true, origin: 1_005_000, elapsed: 250 });
  });

  it('refuses a shift that is not a number', () => {
    expect(() => clockShiftScript(Number.NaN)).toThrow(/finite clock shift/);
  });
});
