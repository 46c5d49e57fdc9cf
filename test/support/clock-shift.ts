/**
 * A page init script (for `page.addInitScript({ content })`) that moves every clock the page's
 * own code can read as wall time by `shiftMs`: `Date.now()`, `new Date()`, `Date()` and
 * `performance.timeOrigin` (so `timeOrigin + performance.now()` too), as on a screen whose
 * clock is off. `performance.now()` itself counts from the origin and is left alone. The real
 * time stays readable as `window.__easelRealNow()`, so a test can check that the shift took.
 *
 * A string, not a function: tsx would wrap a function in helpers the page does not have.
 */
export function clockShiftScript(shiftMs: number): string {
  if (!Number.isFinite(shiftMs)) throw new Error(`Expected a finite clock shift in ms, got ${shiftMs}`);
  return `(() => {
  const shift = ${shiftMs};
  const RealDate = Date;
  const realNow = RealDate.now.bind(RealDate);
  function ShiftedDate(...args) {
    if (!new.target) return new RealDate(realNow() + shift).toString();
    return args.length === 0 ? new RealDate(realNow() + shift) : new RealDate(...args);
  }
  ShiftedDate.prototype = RealDate.prototype;
  ShiftedDate.now = () => realNow() + shift;
  ShiftedDate.parse = RealDate.parse;
  ShiftedDate.UTC = RealDate.UTC;
  globalThis.Date = ShiftedDate;
  const origin = performance.timeOrigin + shift;
  Object.defineProperty(performance, 'timeOrigin', { get: () => origin, configurable: true });
  Object.defineProperty(globalThis, '__easelRealNow', { value: realNow });
})();`;
}
