import { describe, expect, it } from 'vitest';
import { createFakeCanvasCommands } from '../../test/support/fake-canvas-commands.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createFrameHold } from './frame-hold.js';

function setup(slugs: string[], count: number, stallMs = 10_000) {
  const clock = new FakeClock();
  const fake = createFakeCanvasCommands(clock);
  const done: string[] = [];
  const hold = createFrameHold({ slugs, count, onFrame: fake.onFrame, clock, stallMs, onDone: (reason) => done.push(reason) });
  return { clock, fake, hold, done };
}

describe('createFrameHold', () => {
  it('counts only the frames shown after a canvas is watched', () => {
    const { fake, hold, done } = setup(['a'], 2);
    fake.frames('a', 5); // before its command went through: not counted
    hold.watch('a');
    fake.frames('a', 1);
    expect([hold.shown(), done]).toEqual([1, []]);
    fake.frames('a', 1);
    expect(done).toEqual(['frames']);
    expect(fake.listening('a')).toBe(0);
  });

  it('waits for the slowest canvas, and stops waiting for one that is dropped', () => {
    const { fake, hold, done } = setup(['a', 'b'], 3);
    hold.watch('a');
    hold.watch('b');
    fake.frames('a', 3);
    fake.frames('b', 1);
    expect(hold.shown()).toBe(1);
    hold.drop('b');
    expect(done).toEqual(['frames']);
  });

  it('never completes by frames when every canvas is dropped: that is the caller to decide', () => {
    const { hold, done } = setup(['a'], 3);
    hold.drop('a');
    expect(done).toEqual([]);
    hold.cancel();
  });

  it('gives up when no frame comes for stallMs, each frame putting that off', () => {
    const { clock, fake, hold, done } = setup(['a'], 100, 10_000);
    hold.watch('a');
    clock.advance(9000);
    fake.frames('a');
    clock.advance(9000);
    expect(done).toEqual([]);
    clock.advance(1000);
    expect(done).toEqual(['stalled']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('calls nothing once cancelled', () => {
    const { clock, fake, hold, done } = setup(['a'], 1);
    hold.watch('a');
    hold.cancel();
    fake.frames('a', 3);
    clock.advance(60_000);
    expect(done).toEqual([]);
    expect(fake.listening('a')).toBe(0);
  });
});
