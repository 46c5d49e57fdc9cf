import { describe, expect, it } from 'vitest';
import { type ClockSample, createClockEstimator } from './clock-estimator.js';

const HOUR = 3_600_000;

/** A small deterministic generator, so a failing case can be replayed. */
function seeded(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
    return x / 2 ** 32;
  };
}

/**
 * A display and a server on one simulated timeline `t`. The server's clock reads `t + serverAhead`
 * (whole ms, as Date.now); the display's monotonic clock reads `t + localShift` (a step in
 * `localShift` is a clock jump). Pings travel with the delays given.
 */
class Link {
  t = 1_000;
  localShift = 0;
  constructor(readonly serverAhead: number) {}

  local(): number {
    return this.t + this.localShift;
  }

  /** One exchange, the simulated time moving on by its round trip. */
  ping(upMs: number, downMs: number): ClockSample {
    const sentAt = this.local();
    this.t += upMs;
    const serverTime = Math.floor(this.t + this.serverAhead);
    this.t += downMs;
    return { sentAt, receivedAt: this.local(), serverTime };
  }

  /** The true offset (server minus display clock) the estimator should find. */
  get truth(): number {
    return this.serverAhead - this.localShift;
  }
}

function estimatorOn(link: Link) {
  return createClockEstimator({ now: () => link.local() });
}

describe('the clock estimator', () => {
  it('knows nothing before a sample, and converts both ways once it has one', () => {
    const link = new Link(5_000);
    const clock = estimatorOn(link);
    expect(clock.estimate()).toBeNull();
    expect(clock.toLocal(10)).toBeUndefined();
    expect(clock.unsettled).toBe(true);
    expect(clock.add(link.ping(10, 10))).toBe('accepted');
    const e = clock.estimate()!;
    expect(Math.abs(e.offsetMs - link.truth)).toBeLessThanOrEqual(e.errorMs);
    expect(e.rttMs).toBe(20);
    expect(clock.toLocal(clock.toServer(1234)!)).toBeCloseTo(1234, 6);
    expect(clock.unsettled).toBe(false);
  });

  it('finds an offset of hours (display clock far off the server) within a few ms in one burst', () => {
    const link = new Link(1_790_000_000_000 + 3 * HOUR + 0.4);
    const clock = estimatorOn(link);
    const random = seeded(7);
    const errors: number[] = [];
    for (let i = 0; i < 7; i++) {
      clock.add(link.ping(3 + 25 * random(), 3 + 25 * random()));
      const e = clock.estimate()!;
      expect(Math.abs(e.offsetMs - link.truth)).toBeLessThanOrEqual(e.errorMs);
      errors.push(e.errorMs);
      link.t += 150;
    }
    // Each quicker round trip narrows it; a burst ends within a few ms whatever the clocks say.
    expect(errors.at(-1)).toBeLessThan(errors[0]!);
    expect(errors.at(-1)).toBeLessThan(12);
  });

  it('keeps the error bound honest over many Wi-Fi-like bursts, and trusts the quickest round trips', () => {
    for (let seed = 1; seed <= 50; seed++) {
      const link = new Link(-2 * HOUR + seed);
      const clock = estimatorOn(link);
      const random = seeded(seed);
      for (let i = 0; i < 8; i++) {
        // Mostly a few ms each way, now and then a queue of tens of ms on one leg only.
        const up = 2 + 3 * random() + (random() < 0.3 ? 60 * random() : 0);
        const down = 2 + 3 * random() + (random() < 0.3 ? 60 * random() : 0);
        clock.add(link.ping(up, down));
        link.t += 100 + 100 * random();
      }
      const e = clock.estimate()!;
      expect(Math.abs(e.offsetMs - link.truth), `seed ${seed}`).toBeLessThanOrEqual(e.errorMs);
      expect(Math.abs(e.offsetMs - link.truth), `seed ${seed}`).toBeLessThan(6);
    }
  });

  it('is not pulled by lopsided round trips (a slow uplink, a fast downlink)', () => {
    const link = new Link(42_000);
    const clock = estimatorOn(link);
    clock.add(link.ping(3, 3));
    // Each of these alone would put the offset ~100 ms off: the server saw the ping late.
    for (let i = 0; i < 5; i++) {
      link.t += 200;
      clock.add(link.ping(200, 2));
    }
    const e = clock.estimate()!;
    expect(Math.abs(e.offsetMs - link.truth)).toBeLessThanOrEqual(4);
    expect(e.rttMs).toBe(6);
  });

  it('sets aside a lone sample that cannot be right, and keeps its estimate', () => {
    const link = new Link(1_000);
    const clock = estimatorOn(link);
    for (let i = 0; i < 4; i++) {
      clock.add(link.ping(4, 4));
      link.t += 150;
    }
    const before = clock.estimate()!;
    // A reply whose server time is 500 ms off (a server stalled between stamping and replying would look like this).
    const odd = link.ping(4, 4);
    expect(clock.add({ ...odd, serverTime: odd.serverTime + 500 })).toBe('outlier');
    expect(clock.unsettled).toBe(true);
    expect(clock.estimate()!.offsetMs).toBe(before.offsetMs);
    link.t += 150;
    expect(clock.add(link.ping(4, 4))).toBe('accepted');
    expect(clock.unsettled).toBe(false);
    expect(clock.stats).toMatchObject({ outliers: 1, jumps: 0 });
  });

  it('refuses impossible samples: a negative or huge round trip, or a number that is not one', () => {
    const link = new Link(0);
    const clock = estimatorOn(link);
    expect(clock.add({ sentAt: 100, receivedAt: 90, serverTime: 95 })).toBe('rejected');
    expect(clock.add({ sentAt: 100, receivedAt: 100 + 60_000, serverTime: 95 })).toBe('rejected');
    expect(clock.add({ sentAt: 100, receivedAt: 110, serverTime: Number.NaN })).toBe('rejected');
    expect(clock.estimate()).toBeNull();
    expect(clock.stats.rejected).toBe(3);
  });

  it.each([
    ['forward', 37_000],
    ['back', -37_000],
  ])('starts over when the display clock jumps %s', (_, jump) => {
    const link = new Link(1_790_000_000_000);
    const clock = estimatorOn(link);
    for (let i = 0; i < 6; i++) {
      clock.add(link.ping(5, 5));
      link.t += 150;
    }
    link.localShift += jump;
    const verdicts = [];
    for (let i = 0; i < 4; i++) {
      verdicts.push(clock.add(link.ping(5, 5)));
      link.t += 150;
    }
    expect(verdicts).toContain('jump');
    expect(clock.stats.jumps).toBe(1);
    const e = clock.estimate()!;
    expect(Math.abs(e.offsetMs - link.truth)).toBeLessThanOrEqual(e.errorMs);
    expect(Math.abs(e.offsetMs - link.truth)).toBeLessThan(8);
  });

  it('starts over when the server clock is stepped, after a few samples agree on it', () => {
    const link = new Link(50_000);
    const clock = estimatorOn(link);
    for (let i = 0; i < 6; i++) {
      clock.add(link.ping(3, 3));
      link.t += 10_000;
    }
    (link as { serverAhead: number }).serverAhead += 2_000;
    expect(clock.add(link.ping(3, 3))).toBe('outlier');
    expect(clock.add(link.ping(3, 3))).toBe('outlier');
    expect(clock.add(link.ping(3, 3))).toBe('jump');
    expect(Math.abs(clock.estimate()!.offsetMs - link.truth)).toBeLessThan(5);
  });

  it('forgets old samples, and lets their error grow with age meanwhile', () => {
    const link = new Link(0);
    const clock = createClockEstimator({ now: () => link.local(), maxAgeMs: 60_000 });
    clock.add(link.ping(2, 2));
    const fresh = clock.estimate()!.errorMs;
    link.t += 30_000;
    expect(clock.estimate()!.errorMs).toBeGreaterThan(fresh + 2);
    link.t += 31_000;
    expect(clock.estimate()).toBeNull();
  });

  it('forgets everything on reset', () => {
    const link = new Link(0);
    const clock = estimatorOn(link);
    clock.add(link.ping(2, 2));
    clock.reset();
    expect(clock.estimate()).toBeNull();
  });
});
