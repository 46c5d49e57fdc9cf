import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createFrame, type Frame } from './frame.js';
import { createHold } from './hold.js';

const frame = (id: string): Frame => createFrame({ id, data: Buffer.alloc(0), source: 'still', createdAt: 0 }, new Map());

describe('createHold', () => {
  it('holds from when the still is shown, not from when it was asked for', () => {
    const clock = new FakeClock();
    const hold = createHold(clock);
    const still = frame('still');
    hold.after(still, 5000);
    clock.advance(3000); // waiting for its slot
    expect(hold.holds(clock.now())).toBe(false);
    hold.shown(still);
    const shownAt = clock.now();
    clock.advance(4999);
    expect(hold.holds(clock.now())).toBe(true);
    expect(hold.describe(clock.now())).toEqual({ until: new Date(shownAt + 5000).toISOString() });
    clock.advance(1);
    expect(hold.holds(clock.now())).toBe(false);
    expect(hold.describe(clock.now())).toBeNull();
  });

  it('holds until released when asked for Infinity, and says so with until null', () => {
    const clock = new FakeClock();
    const hold = createHold(clock);
    const still = frame('still');
    hold.after(still, Infinity);
    hold.shown(still);
    clock.advance(86_400_000);
    expect(hold.describe(clock.now())).toEqual({ until: null });
    hold.release();
    expect(hold.holds(clock.now())).toBe(false);
  });

  it('starts no hold for frames that owe none, nor twice for the same still', () => {
    const clock = new FakeClock();
    const hold = createHold(clock);
    const still = frame('still');
    hold.shown(frame('from the source'));
    expect(hold.holds(clock.now())).toBe(false);
    hold.after(still, 1000);
    hold.shown(still);
    hold.release();
    hold.shown(still);
    expect(hold.holds(clock.now())).toBe(false);
  });

  it('ends a running hold when another still is asked for, and owes dropped stills nothing', () => {
    const clock = new FakeClock();
    const hold = createHold(clock);
    const first = frame('first');
    const second = frame('second');
    hold.after(first, Infinity);
    hold.shown(first);
    hold.after(second, 1000);
    expect(hold.holds(clock.now())).toBe(false);
    hold.forgetOwed();
    hold.shown(second);
    expect(hold.holds(clock.now())).toBe(false);
  });
});
