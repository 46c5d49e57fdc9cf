import { describe, expect, it } from 'vitest';
import { editDistance } from '../edit-distance.js';
import { nearestSlug } from './suggest.js';

describe('nearestSlug', () => {
  const known = ['left-canva', 'right-canva', 'lobby-3'];

  it('names the canvas a typo meant', () => {
    expect(nearestSlug('left-canvas', known)).toBe('left-canva');
    expect(nearestSlug('rigth-canva', known)).toBe('right-canva');
  });

  it('takes a prefix either way', () => {
    expect(nearestSlug('lobby', known)).toBe('lobby-3');
    expect(nearestSlug('lobby-3-north', known)).toBe('lobby-3');
  });

  it('says nothing when no canvas is near', () => {
    expect(nearestSlug('foyer', known)).toBeUndefined();
    expect(nearestSlug('l', known)).toBeUndefined();
    expect(nearestSlug('left-canva', [])).toBeUndefined();
  });

  it('counts edits', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('kitten', 'sitting', 1)).toBe(2);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
