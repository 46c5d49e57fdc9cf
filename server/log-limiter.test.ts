import { describe, expect, it } from 'vitest';
import { createLogLimiter } from './log-limiter.js';

describe('createLogLimiter', () => {
  it('lets one line per kind through each window and counts the rest for the next line', () => {
    let t = 1_000;
    const limiter = createLogLimiter({ now: () => t, windowMs: 60_000 });
    expect(limiter.take('osc-malformed')).toBe(0);
    for (let i = 0; i < 2_999; i++) expect(limiter.take('osc-malformed')).toBeUndefined();
    t += 59_999;
    expect(limiter.take('osc-malformed')).toBeUndefined();
    t += 1;
    expect(limiter.take('osc-malformed')).toBe(3_000);
    expect(limiter.take('osc-malformed')).toBeUndefined();
    t += 60_000;
    expect(limiter.take('osc-malformed')).toBe(1);
  });

  it('keeps kinds apart', () => {
    const limiter = createLogLimiter({ now: () => 0 });
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0);
    expect(limiter.take('a')).toBeUndefined();
    expect(limiter.take('b')).toBeUndefined();
  });

  it('forgets the oldest kind past maxKinds, so memory stays bounded', () => {
    const limiter = createLogLimiter({ now: () => 0, maxKinds: 2 });
    limiter.take('a');
    limiter.take('b');
    limiter.take('c'); // forgets a
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('c')).toBeUndefined();
  });
});
