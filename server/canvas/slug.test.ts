import { describe, expect, it } from 'vitest';
import { parseSlug } from './slug.js';

describe('parseSlug', () => {
  it.each(['left-canva', 'lobby-3', 'a', '0', `a${'b'.repeat(62)}`])('accepts %s', (slug) => {
    expect(parseSlug(slug)).toEqual({ ok: true, slug });
  });

  it.each([
    ['', 'it is empty'],
    ['-left', 'starts with a dash'],
    ['Left', 'lowercase letters'],
    ['left_canva', 'lowercase letters'],
    ['left canva', 'lowercase letters'],
    ['café', 'lowercase letters'],
    [`a${'b'.repeat(63)}`, 'is 64 characters long, the most is 63'],
  ])('refuses %j saying why', (slug, why) => {
    const result = parseSlug(slug);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(why);
  });
});
