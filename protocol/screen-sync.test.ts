import { describe, expect, it } from 'vitest';
import {
  formatClockOffset,
  formatDuration,
  judgeScreen,
  lateWords,
  readScreenList,
  type ScreenEntry,
  screenName,
  screensWorstFirst,
} from './screen-sync.js';

const sync = (over: Partial<NonNullable<ScreenEntry['sync']>> = {}) => ({
  rttMs: 4,
  errorMs: 2,
  framesShown: 400,
  framesLate: 0,
  reportedAt: '2026-12-01T14:00:00.000Z',
  ...over,
});
const screen = (id: number, over: Partial<ScreenEntry> = {}): ScreenEntry => ({ id, wire: 'v2', clockOffsetMs: 0, sync: sync(), ...over });

describe('formatClockOffset', () => {
  it('signs the offset and picks the unit a person reads', () => {
    expect(formatClockOffset(3_200)).toBe('+3.2 s');
    expect(formatClockOffset(-3_720_000)).toBe('\u22121 h 2 min');
    expect(formatClockOffset(12.4)).toBe('+12 ms');
    expect(formatClockOffset(-0.36)).toBe('\u22120.4 ms');
    expect(formatClockOffset(0.01)).toBe('±0 ms');
    expect(formatClockOffset(45_000)).toBe('+45 s');
    expect(formatClockOffset(-2 * 86_400_000 - 3 * 3_600_000)).toBe('\u22122 d 3 h');
    expect(formatClockOffset(null)).toBe('unknown');
    expect(formatClockOffset(Number.NaN)).toBe('unknown');
  });

  it('keeps whole units whole', () => {
    expect(formatDuration(7_200_000)).toBe('2 h');
    expect(formatDuration(1_000)).toBe('1 s');
    expect(formatDuration(40)).toBe('40 ms');
  });
});

describe('judgeScreen', () => {
  it('passes a screen within half a 60 Hz refresh with no late frames', () => {
    expect(judgeScreen(screen(1, { sync: sync({ errorMs: 8 }) }))).toEqual({ health: 'ok' });
  });

  it('marks a large error or late frames, in words that say what to do', () => {
    expect(judgeScreen(screen(1, { sync: sync({ errorMs: 40 }) }))).toEqual({
      health: 'uncertain',
      note: "this screen's clock is uncertain to ±40 ms: check its network",
    });
    expect(judgeScreen(screen(2, { sync: sync({ framesLate: 3, framesShown: 1200 }) })).note).toBe(
      '3 of 1,200 frames came too late to show in step',
    );
  });

  it('tells a seed or v1 client from a v2 screen that has not reported yet', () => {
    expect(judgeScreen(screen(1, { wire: 'json', sync: null }))).toEqual({
      health: 'no-report',
      note: 'no sync report (seed or v1 client)',
    });
    expect(judgeScreen(screen(1, { wire: 'v1', sync: null })).health).toBe('no-report');
    expect(judgeScreen(screen(1, { sync: null }))).toEqual({ health: 'waiting', note: 'no sync report yet' });
  });
});

describe('screensWorstFirst', () => {
  it('puts marked screens first (largest error first), then silent ones, then good ones', () => {
    const list = [
      screen(1),
      screen(2, { wire: 'json', sync: null }),
      screen(3, { sync: sync({ errorMs: 12 }) }),
      screen(4, { sync: sync({ errorMs: 90 }) }),
      screen(5, { sync: null }),
      screen(6, { sync: sync({ framesLate: 1 }) }),
      screen(7, { sync: sync({ errorMs: 6 }) }),
    ];
    expect(screensWorstFirst(list).map((s) => s.id)).toEqual([4, 3, 6, 5, 2, 7, 1]);
    expect(list[0]!.id).toBe(1);
  });
});

describe('readScreenList', () => {
  it('reads the API body, dropping what it cannot use instead of failing', () => {
    const list = readScreenList({
      slug: 'lobby',
      displayList: [
        { id: 1, address: '10.0.0.5', wire: 'v2', rendition: 'webp-1920', clockOffsetMs: 3200, sync: sync({ errorMs: 40 }) },
        { id: 2, wire: 'json', clockOffsetMs: null, sync: null, framesSent: 'many' },
        { address: 'no id' },
        'junk',
        { id: 3, sync: { rttMs: 'x' } },
      ],
    });
    expect(list).toEqual([
      { id: 1, address: '10.0.0.5', wire: 'v2', rendition: 'webp-1920', clockOffsetMs: 3200, sync: sync({ errorMs: 40 }) },
      { id: 2, wire: 'json', clockOffsetMs: null, sync: null },
      { id: 3, clockOffsetMs: null, sync: null },
    ]);
    expect(readScreenList({ slug: 'x' })).toEqual([]);
    expect(readScreenList(null)).toEqual([]);
  });

  it('names a screen by address where the reader may see it, else by id', () => {
    expect(screenName(screen(7, { address: '10.0.0.5' }))).toBe('10.0.0.5');
    expect(screenName(screen(7))).toBe('display 7');
    expect(lateWords(sync({ framesLate: 2, framesShown: 1500 }))).toBe('2 late of 1,500');
    expect(lateWords(sync())).toBe('none late of 400');
  });
});
