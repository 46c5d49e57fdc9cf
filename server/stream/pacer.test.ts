import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createPacer, planNextFrame, startRun, type PacerState } from './pacer.js';

describe('planNextFrame', () => {
  it('fires slot 0 at the origin and asks again one period later', () => {
    const plan = planNextFrame(startRun(1000, 4), 1000);
    expect(plan).toMatchObject({ fire: true, slot: 0, slotTime: 1000, missed: 0, delayMs: 250 });
  });

  it('waits until the slot is due when called early', () => {
    const plan = planNextFrame({ kind: 'running', origin: 0, periodMs: 250, slot: 3 }, 700);
    expect(plan).toMatchObject({ fire: false, delayMs: 50 });
  });

  it('computes every slot from the origin, so late timers never accumulate drift', () => {
    let state: PacerState = startRun(0, 4);
    let now = 0;
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      const plan = planNextFrame(state, now);
      state = plan.state;
      if (plan.fire) times.push(plan.slotTime);
      now += plan.delayMs + 7; // every timer fires 7 ms late
    }
    expect(times.at(-1)).toBe((times.length - 1) * 250);
    expect(times.every((t, i) => t === i * 250)).toBe(true);
  });

  it('skips the slots it missed instead of bursting', () => {
    const plan = planNextFrame({ kind: 'running', origin: 0, periodMs: 250, slot: 1 }, 1010);
    expect(plan).toMatchObject({ fire: true, slot: 4, slotTime: 1000, missed: 3, delayMs: 240 });
  });

  it('never fires while paused or stopped', () => {
    expect(planNextFrame({ kind: 'paused', periodMs: 250 }, 5).fire).toBe(false);
    expect(planNextFrame({ kind: 'stopped' }, 5).delayMs).toBe(Infinity);
  });

  it('refuses an fps outside 0.1 to 30', () => {
    expect(() => startRun(0, 0)).toThrow(RangeError);
    expect(() => startRun(0, 31)).toThrow(/Expected fps from 0.1 to 30 but received 31/);
  });
});

describe('createPacer', () => {
  const setup = (fps = 4) => {
    const clock = new FakeClock(0);
    const slots: Array<{ index: number; time: number; missed: number }> = [];
    const pacer = createPacer({ fps, clock, onSlot: (s) => slots.push(s) });
    return { clock, slots, pacer };
  };

  it('fires 4 slots a second, on time, for an hour of fake time', () => {
    const { clock, slots, pacer } = setup();
    pacer.start();
    clock.advance(3_600_000);
    expect(slots).toHaveLength(4 * 3600 + 1);
    expect(slots.at(-1)?.time).toBe(3_600_000);
    expect(slots.every((s) => s.missed === 0)).toBe(true);
  });

  it('starts its grid a phase after now, so canvases can spread their slots', () => {
    const { clock, slots, pacer } = setup();
    pacer.start(100);
    expect(slots).toHaveLength(0);
    clock.advance(600);
    expect(slots.map((s) => s.time)).toEqual([100, 350, 600]);
  });

  it('holds exactly one timer at a time', () => {
    const { clock, pacer } = setup();
    pacer.start();
    clock.advance(10_000);
    expect(clock.pendingTimers).toBe(1);
  });

  it('stays on its grid when every timer fires late', () => {
    const { clock, slots, pacer } = setup();
    clock.lateMs = 30;
    pacer.start();
    clock.advance(60_000);
    expect(slots.every((s, i) => s.time === i * 250)).toBe(true);
  });

  it('fires nothing while paused and restarts the grid on resume', () => {
    const { clock, slots, pacer } = setup();
    pacer.start();
    clock.advance(1000); // slots at 0, 250, 500, 750, 1000
    pacer.pause();
    clock.advance(10_000);
    expect(slots).toHaveLength(5);
    expect(clock.pendingTimers).toBe(0);
    pacer.resume();
    expect(slots).toHaveLength(6);
    expect(slots.at(-1)).toMatchObject({ time: 11_000, missed: 0 });
    clock.advance(1000);
    expect(slots.slice(5).map((s) => s.time)).toEqual([11_000, 11_250, 11_500, 11_750, 12_000]);
  });

  it('changes rate from the next due slot without a jump', () => {
    const { clock, slots, pacer } = setup();
    pacer.start();
    clock.advance(100);
    pacer.setFps(10);
    clock.advance(400);
    expect(slots.map((s) => s.time)).toEqual([0, 250, 350, 450]);
  });

  it('can be paused from inside its own slot callback', () => {
    const clock = new FakeClock(0);
    let count = 0;
    const pacer = createPacer({
      fps: 4,
      clock,
      onSlot: () => {
        if (++count === 3) pacer.pause();
      },
    });
    pacer.start();
    clock.advance(5000);
    expect(count).toBe(3);
    expect(clock.pendingTimers).toBe(0);
  });
});
