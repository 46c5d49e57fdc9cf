import { describe, expect, it } from 'vitest';
import { readSpec, readWants } from './wants.js';

const spec = { format: 'webp', width: 640, height: 360, fit: 'inside' };
const entry = (at: number, specs: unknown[]) => JSON.stringify({ at, specs });

describe('wants from other nodes', () => {
  it('merges the live entries of other nodes, one spec per rendition', () => {
    const { specs, expired } = readWants(
      { b: entry(1000, [spec]), c: entry(1500, [spec, { ...spec, format: 'jpeg' }]), self: entry(1500, [{ ...spec, width: 99 }]) },
      2000,
      3000,
      'self',
    );
    expect(specs.map((s) => s.format).sort()).toEqual(['jpeg', 'webp']);
    expect(expired).toEqual([]);
  });

  it('names the entries older than the TTL as expired and takes nothing from them', () => {
    expect(readWants({ dead: entry(0, [spec]) }, 10_000, 3000, 'self')).toEqual({ specs: [], expired: ['dead'] });
  });

  it('skips unreadable entries and specs, and oversized values', () => {
    const { specs } = readWants(
      {
        a: 'not json',
        b: '"text"',
        c: JSON.stringify({ at: 'soon', specs: [spec] }),
        d: entry(1000, [
          null,
          { ...spec, width: 0 },
          { ...spec, fit: 'stretch' },
          { ...spec, tile: { column: 3, row: 1, columns: 2, rows: 1 } },
        ]),
        e: entry(1000, [spec]) + ' '.repeat(20_000),
      },
      1000,
      3000,
      'self',
    );
    expect(specs).toEqual([]);
  });

  it('reads a tile spec whole', () => {
    const tile = { columns: 2, rows: 1, bezelPx: 10, tileWidth: 100, tileHeight: 80, column: 2, row: 1 };
    expect(readSpec({ ...spec, tile })).toEqual({ ...spec, tile });
  });
});
