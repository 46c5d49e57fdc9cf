import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createPlaylistScheduler } from './playlist-scheduler.js';
import type { Playlist } from './playlist-types.js';

const show = (at: string[], extra: Partial<Playlist> = {}): Playlist => ({
  name: 'evening-show',
  canvases: ['left-canva', 'right-canva'],
  loop: true,
  at,
  steps: [{ type: 'pause', hold: { kind: 'time', ms: 1000 }, line: 1 }],
  ...extra,
});
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

function setup(start: Date, lateLimitMs?: number) {
  const clock = new FakeClock(start.getTime());
  const { logger, lines } = captureLogs();
  const due: string[] = [];
  const scheduler = createPlaylistScheduler({
    clock,
    logger,
    onDue: (p, time) => due.push(`${p.name} ${time.getHours()}:${String(time.getMinutes()).padStart(2, '0')} day ${time.getDate()}`),
    ...(lateLimitMs !== undefined && { lateLimitMs }),
  });
  return { clock, scheduler, due, lines };
}

describe('createPlaylistScheduler', () => {
  it('starts a playlist at its time, then at the same time the next day', () => {
    const { clock, scheduler, due } = setup(new Date(2024, 5, 3, 18, 0));
    scheduler.update([show(['18:30'])]);
    expect(scheduler.list()).toEqual([
      { name: 'evening-show', canvases: ['left-canva', 'right-canva'], at: ['18:30'], next: new Date(2024, 5, 3, 18, 30).toISOString() },
    ]);
    clock.advance(29 * MINUTE);
    expect(due).toEqual([]);
    clock.advance(MINUTE);
    expect(due).toEqual(['evening-show 18:30 day 3']);
    clock.advance(24 * HOUR);
    expect(due).toEqual(['evening-show 18:30 day 3', 'evening-show 18:30 day 4']);
  });

  it('waits for tomorrow when the time has already passed today', () => {
    const { clock, scheduler, due } = setup(new Date(2024, 5, 3, 19, 0));
    scheduler.update([show(['18:30'])]);
    clock.advance(23 * HOUR + 29 * MINUTE);
    expect(due).toEqual([]);
    clock.advance(MINUTE);
    expect(due).toEqual(['evening-show 18:30 day 4']);
  });

  it('keeps a timer through an update that leaves the times alone, and drops it with the playlist', () => {
    const { clock, scheduler, due } = setup(new Date(2024, 5, 3, 18, 0));
    scheduler.update([show(['18:30'])]);
    clock.advance(20 * MINUTE);
    scheduler.update([show(['18:30'], { canvases: ['lobby'] })]);
    clock.advance(10 * MINUTE);
    expect(due).toEqual(['evening-show 18:30 day 3']);
    scheduler.update([]);
    expect(scheduler.list()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('ignores playlists without times or canvases', () => {
    const { scheduler, clock } = setup(new Date(2024, 5, 3, 18, 0));
    scheduler.update([show([]), show(['18:30'], { name: 'nowhere', canvases: [] })]);
    expect(scheduler.list()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('skips a start it notices too late (the machine slept), and keeps the next', () => {
    const { clock, scheduler, due, lines } = setup(new Date(2024, 5, 3, 18, 0), 5 * MINUTE);
    scheduler.update([show(['18:30'])]);
    clock.lateMs = 10 * MINUTE;
    clock.advance(30 * MINUTE);
    expect(due).toEqual([]);
    expect(lines.some((l) => String(l.msg).includes('missed its start time'))).toBe(true);
    clock.lateMs = 0;
    clock.advance(24 * HOUR);
    expect(due).toEqual(['evening-show 18:30 day 4']);
  });

  it('refuses an unknown time zone when made, not at show time', () => {
    const { logger } = captureLogs();
    expect(() => createPlaylistScheduler({ clock: new FakeClock(), logger, onDue: () => undefined, timeZone: 'Mars/Olympus' })).toThrow(
      RangeError,
    );
  });
});
