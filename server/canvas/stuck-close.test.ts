import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { fakeDisplay } from '../../test/support/fake-display.js';
import { captureLogs } from '../../test/support/log-capture.js';
import type { RenditionSpec } from '../stream/rendition.js';
import { Channel, type Display } from './channel.js';
import { createFrame } from './frame.js';
import { createStuckCloser, TOO_SLOW_CODE } from './stuck-close.js';

const spec: RenditionSpec = { format: 'jpeg', width: 8, height: 8, fit: 'inside' };
const encoded = { data: Buffer.from([1]), format: 'jpeg' as const, mime: 'image/jpeg', width: 8, height: 8 };
let seq = 0;
const frame = () =>
  Object.assign(
    createFrame({ id: `f${seq}`, data: Buffer.alloc(0), source: 'test', createdAt: 0 }, new Map([['jpeg:8x8:inside', encoded]])),
    { seq: ++seq },
  );

function setUp() {
  const clock = new FakeClock();
  const logs = captureLogs();
  const channel = new Channel();
  const stuck = createStuckCloser({ clock, logger: logs.logger, graceMs: () => 500 });
  const closed: Display[] = [];
  const sweep = () => stuck.sweep(channel, clock.now(), { timeoutMs: 10_000, slots: 3 }, (d) => closed.push(d));
  return { clock, logs, channel, stuck, closed, sweep };
}

describe('the stall sweep', () => {
  it('takes out a display that skipped `slots` frames in a row; it gets the grace to drain, then a 1008', () => {
    const { clock, channel, stuck, closed, sweep, logs } = setUp();
    const slow = fakeDisplay(spec);
    const fine = fakeDisplay(spec);
    channel.add(slow.display);
    channel.add(fine.display);
    slow.socket.buffered = 100_000;
    for (let i = 0; i < 2; i++) {
      channel.publish(frame(), clock.now());
      sweep();
      clock.advance(250);
    }
    expect(closed).toEqual([]);
    channel.publish(frame(), clock.now());
    sweep();
    expect(closed).toEqual([slow.display]);
    expect(channel.displays.has(slow.display)).toBe(false);
    expect(stuck.waiting).toBe(1);
    expect(logs.lines.find((l) => l.code === 'EASEL_ERR_DISPLAY_TOO_SLOW')).toMatchObject({ display: slow.display.id, skippedInARow: 3 });
    slow.socket.buffered = 0;
    expect(stuck.drained(slow.display)).toBe(true);
    expect(slow.socket.ended?.code).toBe(TOO_SLOW_CODE);
    expect(stuck.waiting).toBe(0);
    expect(fine.socket.sent).toHaveLength(3);
  });

  it('takes out a display blocked longer than timeoutMs however few frames it missed, and shuts it hard if it never drains', () => {
    const { clock, channel, stuck, closed, sweep } = setUp();
    const stuckOne = fakeDisplay(spec);
    channel.add(stuckOne.display);
    stuckOne.socket.buffered = 100_000;
    channel.publish(frame(), clock.now());
    clock.advance(10_000);
    sweep();
    expect(closed).toEqual([]);
    clock.advance(1);
    sweep();
    expect(closed).toEqual([stuckOne.display]);
    clock.advance(499);
    expect(stuckOne.socket.closedHard).toBe(false);
    clock.advance(1);
    expect(stuckOne.socket.closedHard).toBe(true);
    expect(stuck.waiting).toBe(0);
  });

  it('sends the 1008 at once to a display with nothing queued, and forgets one that left meanwhile', () => {
    const { clock, stuck } = setUp();
    const idle = fakeDisplay(spec);
    stuck.close(idle.display);
    expect(idle.socket.ended?.code).toBe(TOO_SLOW_CODE);
    const gone = fakeDisplay(spec);
    gone.socket.buffered = 10;
    stuck.close(gone.display);
    stuck.forget(gone.display);
    clock.advance(1000);
    expect(gone.socket.closedHard).toBe(false);
    expect(clock.pendingTimers).toBe(0);
  });
});
