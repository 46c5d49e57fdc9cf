import { describe, expect, it } from 'vitest';
import { parseMjpegSize } from './mjpeg-route.js';

const size = (query: string) => parseMjpegSize(new URLSearchParams(query));

describe('parseMjpegSize', () => {
  it('takes whole pixels from 1 to 16384, either alone as the long edge, and none as full size', () => {
    expect(size('')).toEqual({ ok: true, value: undefined });
    expect(size('w=1280&h=720')).toEqual({ ok: true, value: { w: 1280, h: 720 } });
    expect(size('w=480')).toEqual({ ok: true, value: { w: 480, h: 480 } });
    expect(size('h=16384')).toEqual({ ok: true, value: { w: 16384, h: 16384 } });
  });

  it('refuses anything else with the parameter named, and a long value cut short', () => {
    for (const [query, name] of [
      ['w=0', 'w'],
      ['w=16385', 'w'],
      ['h=-1', 'h'],
      ['w=1.5', 'w'],
      ['w=1e3', 'w'],
      ['w=', 'w'],
      ['h=abc', 'h'],
      [`w=${'9'.repeat(500)}`, 'w'],
    ] as const) {
      const result = size(query);
      expect(result.ok, query).toBe(false);
      if (!result.ok) {
        expect(result.problem.detail.startsWith(`${name}: value `), query).toBe(true);
        expect(result.problem.detail.length, query).toBeLessThan(200);
      }
    }
  });
});
