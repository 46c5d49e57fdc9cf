import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../test/support/log-capture.js';
import { createOwnerChanges } from './owner-changes.js';

describe('owner changes', () => {
  it('measures the screen time from the last frame of one epoch to the first of the next, once per change of hands', () => {
    const { logger, lines } = captureLogs('debug');
    const gaps = createOwnerChanges({ logger });
    for (let i = 0; i < 4; i++) gaps.shown('wall', 7, 1000 + i * 250, 'node-a');
    expect(gaps.stats.size).toBe(0);
    gaps.shown('wall', 9, 4250, 'node-b');
    gaps.shown('wall', 9, 4500, 'node-b');
    expect(gaps.stats.get('wall')).toMatchObject({ count: 1, totalMs: 2500, maxMs: 2500, last: { gapMs: 2500, node: 'node-b', epoch: 9 } });
    expect(lines.filter((l) => String(l.msg).includes('changed hands'))).toHaveLength(1);
  });

  it('ignores a late frame of an older epoch, and keeps canvases apart', () => {
    const { logger } = captureLogs('debug');
    const gaps = createOwnerChanges({ logger });
    gaps.shown('wall', 3, 1000, 'node-a');
    gaps.shown('floor', 5, 1000, 'node-c');
    gaps.shown('wall', 4, 1300, 'node-b');
    gaps.shown('wall', 3, 1250, 'node-a');
    gaps.shown('wall', 4, 1550, 'node-b');
    expect(gaps.stats.get('wall')).toMatchObject({ count: 1, maxMs: 300 });
    expect(gaps.stats.has('floor')).toBe(false);
  });
});
