import { describe, expect, it } from 'vitest';
import { createRenditionCache } from './rendition-cache.js';

const item = (n: number) => ({ data: new Uint8Array(n) });

describe('createRenditionCache', () => {
  it('evicts the least recently used entries to stay within its byte budget', () => {
    const cache = createRenditionCache(100);
    cache.set('a', item(40));
    cache.set('b', item(40));
    cache.get('a'); // b is now the least recent
    cache.set('c', item(40));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.bytes).toBe(80);
  });

  it('does not keep an entry larger than the whole budget', () => {
    const cache = createRenditionCache(100);
    cache.set('big', item(101));
    expect(cache.size).toBe(0);
  });

  it('replaces an entry under the same key without counting it twice', () => {
    const cache = createRenditionCache(100);
    cache.set('a', item(30));
    cache.set('a', item(50));
    expect(cache.bytes).toBe(50);
    expect(cache.size).toBe(1);
  });
});
