import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { watchForStall } from './stall-watch.js';

function setup(limitMs: () => number = () => 1000) {
  const clock = new FakeClock();
  const state = { dry: true, stalls: [] as number[] };
  const watch = watchForStall({ clock, slotMs: 250, limitMs, isDry: () => state.dry, onStall: (ms) => state.stalls.push(ms) });
  return { clock, state, watch };
}

describe('watchForStall', () => {
  it('fires once the buffer is dry and nothing came for the limit, not a moment before', () => {
    const { clock, state } = setup();
    clock.advance(999);
    expect(state.stalls).toEqual([]);
    clock.advance(1);
    expect(state.stalls).toEqual([1000]);
    clock.advance(10_000);
    expect(state.stalls).toEqual([1000]); // once
    expect(clock.pendingTimers).toBe(0);
  });

  it('counts from the last image', () => {
    const { clock, state, watch } = setup();
    clock.advance(800);
    watch.progress();
    clock.advance(999);
    expect(state.stalls).toEqual([]);
    clock.advance(1);
    expect(state.stalls).toHaveLength(1);
  });

  it('waits while frames are buffered, and fires within a slot of the buffer running dry', () => {
    const { clock, state } = setup();
    state.dry = false;
    clock.advance(5000);
    expect(state.stalls).toEqual([]);
    state.dry = true;
    clock.advance(250);
    expect(state.stalls).toEqual([1000]);
  });

  it('reads the limit at each look, so a shrinking limit applies at once', () => {
    let limit = 4000;
    const { clock, state } = setup(() => limit);
    clock.advance(500);
    limit = 1000;
    clock.advance(500);
    expect(state.stalls).toEqual([1000]);
  });

  it('stops looking when stopped', () => {
    const { clock, state, watch } = setup();
    watch.stop();
    clock.advance(10_000);
    expect(state.stalls).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });
});
