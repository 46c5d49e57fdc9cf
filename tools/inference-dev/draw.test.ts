import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { meanColour, solidPng } from '../../test/support/images.js';
import { createRandom, drawDevImage, wrap } from './draw.js';

const distance = (a: number[], b: number[]) => Math.hypot(...a.map((v, i) => v - b[i]!));

describe('drawDevImage', () => {
  it('draws the same picture for the same prompt and seed, and another for a new seed', async () => {
    const base = { prompt: 'a red lighthouse', width: 128, height: 96 };
    const [a, again, other] = await Promise.all([
      drawDevImage({ ...base, seed: 7 }),
      drawDevImage({ ...base, seed: 7 }),
      drawDevImage({ ...base, seed: 8 }),
    ]);
    expect(again.equals(a)).toBe(true);
    expect(other.equals(a)).toBe(false);
    expect(await sharp(a).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 96 });
  });

  it('blends the init image in by strength: low strength stays close to it', async () => {
    const initImage = await solidPng('#ff0000', 64, 64);
    const options = { prompt: 'a blue whale', seed: 3, width: 64, height: 64, initImage };
    const [slight, strong] = await Promise.all([drawDevImage({ ...options, strength: 0.1 }), drawDevImage({ ...options, strength: 0.9 })]);
    const red = [255, 0, 0];
    expect(distance(await meanColour(slight), red)).toBeLessThan(distance(await meanColour(strong), red));
  });
});

describe('wrap', () => {
  it('breaks a prompt into lines and cuts it with an ellipsis', () => {
    expect(wrap('a red lighthouse on a cliff', 12, 4)).toEqual(['a red', 'lighthouse', 'on a cliff']);
    expect(wrap('one two three four five six', 7, 2)).toEqual(['one two', 'three…']);
  });
});

describe('createRandom', () => {
  it('repeats its sequence for the same seed', () => {
    const a = createRandom(42);
    const b = createRandom(42);
    expect([a(), a(), a()]).toEqual([b(), b(), b()]);
  });
});
