import { describe, expect, it } from 'vitest';
import { CODE_COUNT, codeColour, codeOf } from './frame-codes.js';
import { alignTo, appearances, skewOver, type ScreenSample } from './skew-analysis.js';

const rgb = (hex: string) => [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));

describe('frame codes', () => {
  it('read back every code from its colour, also a little off, and nothing from black or a blend', () => {
    for (let code = 0; code < CODE_COUNT; code++) {
      const [r, g, b] = rgb(codeColour(code));
      expect(codeOf([r!, g!, b!])).toBe(code);
      expect(codeOf([Math.max(0, r! - 25), Math.min(255, g! + 25), b!])).toBe(code);
    }
    expect(codeOf([0, 0, 0])).toBeNull();
    expect(codeOf([255, 255, 255])).toBeNull();
    expect(codeOf([128, 40, 0])).toBeNull();
    expect(() => codeColour(CODE_COUNT)).toThrow(/No frame code/);
  });
});

/** Samples of a screen showing frames 0, 1, 2 … at `start + i * 250 + delay(i)`, codes wrapping. */
function screen(first: number, count: number, start: number, delay: (i: number) => number, codeCount = 8): ScreenSample[] {
  return Array.from({ length: count }, (_, i) => [
    { t: start + i * 250 + delay(i), code: (first + i) % codeCount },
    // A second picture of the same frame, and one a blend makes unreadable: neither is a new frame.
    { t: start + i * 250 + delay(i) + 16, code: null },
    { t: start + i * 250 + delay(i) + 33, code: (first + i) % codeCount },
  ]).flat();
}

describe('skew analysis', () => {
  it('pairs frames across codes that wrap, screens that start on different frames, and a frame one screen missed', () => {
    const a = appearances(
      screen(3, 40, 0, () => 0),
      8,
    );
    // B starts 10 frames (more than one wrap of the codes) later, is 20 ms behind (every third frame 40), and misses one frame.
    const bSamples = screen(13, 30, 2_500, (i) => (i % 3 === 0 ? 40 : 20)).filter((s) => s.t < 5_000 || s.t > 5_100);
    const b = alignTo(a, appearances(bSamples, 8), 8);
    expect(b[0]!.seq).toBe(10);
    const figures = skewOver(a, b, 20, 2);
    expect(figures).toMatchObject({
      frames: 20,
      seenA: 20,
      seenB: 19,
      paired: 19,
      medianMs: 20,
      maxMs: 40,
      medianSignedMs: 20,
      outOfOrder: 0,
    });
    expect(figures.perFrame[0]).toMatchObject({ seq: 12, tA: 3_000, tB: 3_020 });
  });

  it('counts a recording whose times run backwards', () => {
    const a = appearances(
      [
        { t: 10, code: 1 },
        { t: 5, code: 2 },
      ],
      8,
    );
    expect(skewOver(a, a, 2, 0).outOfOrder).toBe(2);
  });
});
