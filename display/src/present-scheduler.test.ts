import { describe, expect, it } from 'vitest';
import { createClockEstimator } from '../../protocol/clock-estimator.js';
import {
  createPresentScheduler,
  DEFAULT_MAX_WAITING,
  MAX_WAITING_FRAMES,
  type PresentSchedulerOptions,
  waitingCap,
} from './present-scheduler.js';

const REFRESH = 1000 / 60;

/** A scheduler whose shows and drops are recorded, with `ticks` animation frames of 60 Hz from `from`. */
function setup(extra: Partial<PresentSchedulerOptions<string>> = {}) {
  const shown: { item: string; at: number; late: boolean }[] = [];
  const dropped: string[] = [];
  const scheduler = createPresentScheduler<string>({
    show: (item, at, late) => shown.push({ item, at, late }),
    drop: (item) => dropped.push(item),
    ...extra,
  });
  let t = 0;
  const ticks = (count: number) => {
    for (let i = 0; i < count; i++) scheduler.tick((t += REFRESH));
  };
  return { scheduler, shown, dropped, ticks, now: () => t };
}

describe('the present scheduler', () => {
  it('learns the refresh interval from the ticks, ignoring pauses of the loop', () => {
    const { scheduler, ticks } = setup();
    const s = createPresentScheduler<string>({ show() {}, drop() {} });
    for (let t = 0; t < 20 * 8.33; t += 8.33) s.tick(t); // a 120 Hz screen
    s.tick(20 * 8.33 + 1000); // the loop stopped for a second: not a refresh
    expect(s.refreshMs).toBeCloseTo(8.33, 1);
    ticks(3);
    expect(scheduler.refreshMs).toBeCloseTo(REFRESH, 3);
  });

  it('shows a frame on the tick nearest its due time, not before', () => {
    const { scheduler, shown, ticks, now } = setup();
    ticks(10);
    const due = now() + 100 + 0.3 * REFRESH; // nearer the tick before than the tick after
    scheduler.add('a', due, now());
    ticks(5);
    expect(shown).toEqual([]);
    ticks(1);
    expect(shown).toHaveLength(1);
    expect(Math.abs(shown[0]!.at - due)).toBeLessThanOrEqual(REFRESH / 2);
    expect(shown[0]!.late).toBe(false);

    const due2 = now() + 50 + 0.7 * REFRESH; // nearer the tick after
    scheduler.add('b', due2, now());
    ticks(3);
    expect(shown).toHaveLength(1);
    ticks(1);
    expect(shown.map((s) => s.item)).toEqual(['a', 'b']);
    expect(Math.abs(shown[1]!.at - due2)).toBeLessThanOrEqual(REFRESH / 2);
    expect(scheduler.stats).toEqual({ shown: 2, late: 0, dropped: 0, early: 0 });
  });

  it('keeps several frames waiting when the lead is longer than the frame interval, and shows each in order', () => {
    const { scheduler, shown, ticks, now } = setup({ maxWaiting: () => 12 });
    ticks(2);
    // 30 FPS with a 300 ms lead: ten frames in flight.
    for (let i = 0; i < 10; i++) scheduler.add(`f${i}`, now() + 300 + i * 33, now());
    expect(scheduler.waiting).toBe(10);
    ticks(40);
    expect(shown.map((s) => s.item)).toEqual(Array.from({ length: 10 }, (_, i) => `f${i}`));
    expect(scheduler.stats).toMatchObject({ shown: 10, late: 0, dropped: 0 });
  });

  it('shows only the newest of the frames due at one tick, and counts the others as dropped', () => {
    const { scheduler, shown, dropped, ticks, now } = setup({ maxWaiting: () => 12 });
    ticks(2);
    // 120 FPS on a 60 Hz screen: two frames fall on each refresh.
    for (let i = 0; i < 8; i++) scheduler.add(`f${i}`, now() + 100 + i * 8.33, now());
    ticks(20);
    expect(shown.length + dropped.length).toBe(8);
    expect(shown.length).toBeGreaterThanOrEqual(3);
    expect(shown.at(-1)!.item).toBe('f7');
    expect(scheduler.stats.dropped).toBe(dropped.length);
    // In order: every frame shown is newer than the one before.
    const order = shown.map((s) => Number(s.item.slice(1)));
    expect(order).toEqual([...order].sort((a, b) => a - b));
  });

  it('shows a frame that arrives past due at once, counted late only when more than half a refresh past', () => {
    const { scheduler, shown, ticks, now } = setup();
    ticks(5);
    scheduler.add('late', now() - REFRESH, now());
    expect(shown).toEqual([{ item: 'late', at: now(), late: true }]);
    scheduler.add('just', now() - 0.25 * REFRESH, now());
    expect(shown[1]).toEqual({ item: 'just', at: now(), late: false });
    expect(scheduler.stats).toMatchObject({ shown: 2, late: 1 });
  });

  it('counts a frame late when the ticks stalled past its time (a long task on the main thread)', () => {
    const { scheduler, shown, ticks, now } = setup();
    ticks(5);
    scheduler.add('a', now() + 2 * REFRESH, now());
    scheduler.tick(now() + 6 * REFRESH);
    expect(shown).toMatchObject([{ item: 'a', late: true }]);
  });

  it('shows a frame with no due time at once, not late, after dropping what waited before it', () => {
    const { scheduler, shown, dropped, ticks, now } = setup();
    ticks(3);
    scheduler.add('waiting', now() + 200, now());
    scheduler.add('now', undefined, now());
    expect(shown).toEqual([{ item: 'now', at: now(), late: false }]);
    expect(dropped).toEqual(['waiting']);
    expect(scheduler.waiting).toBe(0);
    scheduler.add('nan', Number.NaN, now());
    expect(shown.at(-1)).toMatchObject({ item: 'nan', late: false });
  });

  it('treats a due time absurdly far ahead as a clock problem: shown now and counted', () => {
    const { scheduler, shown, now } = setup();
    scheduler.add('far', now() + 60_000, now());
    expect(shown).toEqual([{ item: 'far', at: now(), late: false }]);
    expect(scheduler.stats).toMatchObject({ shown: 1, early: 1, late: 0 });
  });

  it('caps the frames waiting: the oldest go, and are let go of', () => {
    const { scheduler, shown, dropped, ticks, now } = setup({ maxWaiting: () => 3 });
    ticks(2);
    for (let i = 0; i < 5; i++) scheduler.add(`f${i}`, now() + 500 + i * 10, now());
    expect(scheduler.waiting).toBe(3);
    expect(dropped).toEqual(['f0', 'f1']);
    ticks(60);
    expect(shown.length + dropped.length).toBe(5);
    expect(scheduler.waiting).toBe(0);
  });

  it('catches up without ticks (a hidden page), and flushes or clears what waits', () => {
    const { scheduler, shown, dropped, ticks, now } = setup();
    ticks(3);
    const t = now();
    scheduler.add('a', t + 50, t);
    scheduler.add('b', t + 100, t);
    scheduler.add('c', t + 150, t);
    scheduler.catchUp(t + 60);
    expect(shown.map((s) => s.item)).toEqual(['a']);
    scheduler.catchUp(t + 400);
    expect(shown.at(-1)).toMatchObject({ item: 'c', late: true });
    expect(dropped).toEqual(['b']);

    scheduler.add('d', t + 500, t + 400);
    scheduler.add('e', t + 550, t + 400);
    scheduler.flush(t + 410);
    expect(shown.at(-1)).toMatchObject({ item: 'e', late: false });
    expect(dropped).toEqual(['b', 'd']);

    scheduler.add('f', t + 900, t + 410);
    scheduler.clear();
    expect(dropped.at(-1)).toBe('f');
    expect(scheduler.waiting).toBe(0);
    expect(scheduler.stats).toEqual({ shown: 3, late: 1, dropped: 3, early: 0 });
  });
});

describe('two screens with the clock estimator', () => {
  it('change within one refresh of each other, whatever their clocks and links', () => {
    // Two displays: clocks hours apart, vsync phases apart, one over a jittery link. Simulated
    // time `t` is the server's clock; each display's monotonic clock is `t - shift`.
    const random = (() => {
      let x = 11;
      return () => {
        x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0;
        return x / 2 ** 32;
      };
    })();
    const screens = [
      { shift: 1_790_000_000_000 - 12.3, phase: 0, jitter: 2 },
      { shift: 1_790_000_000_000 + 3 * 3_600_000 + 0.7, phase: 9.1, jitter: 40 },
    ].map((s) => {
      const shownAt = new Map<number, number>();
      let now = 0;
      const clock = createClockEstimator({ now: () => now });
      const scheduler = createPresentScheduler<number>({ show: (seq) => shownAt.set(seq, now + s.shift), drop() {} });
      return {
        ...s,
        shownAt,
        clock,
        scheduler,
        nextTick: 1_500 + s.phase,
        arrivals: [] as number[],
        setNow: (t: number) => (now = t - s.shift),
      };
    });
    // The burst: seven pings 150 ms apart, each leg a few ms plus the link's jitter.
    for (const s of screens) {
      let t = 0;
      for (let i = 0; i < 7; i++, t += 150) {
        const up = 1 + s.jitter * random();
        const down = 1 + s.jitter * random();
        s.setNow(t + up + down);
        s.clock.add({ sentAt: t - s.shift, serverTime: Math.floor(t + up), receivedAt: t + up + down - s.shift });
      }
    }
    // 40 frames at 4 FPS, presentAt = slot + 300 ms, arriving after the link's delay; ticks at 60 Hz in each screen's phase.
    const frames = Array.from({ length: 40 }, (_, seq) => ({ seq, presentAt: 2_000 + seq * 250 }));
    for (const s of screens) s.arrivals = frames.map((f) => f.presentAt - 300 + 5 + s.jitter * random());
    for (let t = 1_500; t < 13_000; t += 0.5) {
      for (const s of screens) {
        s.setNow(t);
        for (const f of frames) {
          const arrival = s.arrivals[f.seq]!;
          if (arrival >= t && arrival < t + 0.5) s.scheduler.add(f.seq, s.clock.toLocal(f.presentAt), t - s.shift);
        }
        if (t >= s.nextTick) {
          s.scheduler.tick(s.nextTick - s.shift);
          s.nextTick += REFRESH;
        }
      }
    }
    const [a, b] = screens;
    expect(a!.shownAt.size).toBe(40);
    expect(b!.shownAt.size).toBe(40);
    const skews = frames.map((f) => Math.abs(a!.shownAt.get(f.seq)! - b!.shownAt.get(f.seq)!));
    expect(Math.max(...skews)).toBeLessThanOrEqual(REFRESH + 1);
    expect(a!.scheduler.stats.late + b!.scheduler.stats.late).toBe(0);
  });
});

describe('the waiting cap', () => {
  it('makes room for every frame in flight during the lead, within bounds', () => {
    expect(waitingCap(4, 300)).toBe(DEFAULT_MAX_WAITING);
    expect(waitingCap(30, 300)).toBe(11);
    expect(waitingCap(60, 2_000)).toBe(MAX_WAITING_FRAMES);
    expect(waitingCap(0, 300)).toBe(DEFAULT_MAX_WAITING);
    expect(waitingCap(Number.NaN, 300)).toBe(DEFAULT_MAX_WAITING);
    expect(waitingCap(30, -5)).toBe(DEFAULT_MAX_WAITING);
  });
});
