import { describe, expect, it } from 'vitest';
import { countOpenFiles, createFdGuard, readOpenFilesLimit } from './fd-guard.js';

describe('createFdGuard', () => {
  it('refuses once the open descriptors come within the headroom of the limit', () => {
    let t = 0;
    let open = 100;
    const guard = createFdGuard({ headroom: 20, limit: 200, now: () => t, countOpen: () => open });
    expect(guard.admit()).toBe(true);
    open = 179;
    t += 1000;
    expect(guard.admit()).toBe(true); // 179 < 180
    expect(guard.admit()).toBe(false); // 179 + the one just admitted
    open = 150; // connections went away
    t += 50;
    expect(guard.admit()).toBe(true);
    expect(guard.status()).toEqual({ open: 150, limit: 200, headroom: 20 });
  });

  it('counts connections admitted between samples, so a burst cannot overshoot', () => {
    const t = 0;
    const guard = createFdGuard({ headroom: 10, limit: 100, now: () => t, countOpen: () => 50 });
    let admitted = 0;
    for (let i = 0; i < 100; i++) if (guard.admit()) admitted++;
    expect(admitted).toBe(40);
  });

  it('admits everything where descriptors cannot be counted', () => {
    const guard = createFdGuard({ headroom: 10, limit: 20, now: () => 0, countOpen: () => undefined });
    for (let i = 0; i < 50; i++) expect(guard.admit()).toBe(true);
  });

  it('reads the real limit and count of this process', () => {
    expect(readOpenFilesLimit()).toBeGreaterThan(0);
    expect(countOpenFiles()).toBeGreaterThan(2);
  });
});
