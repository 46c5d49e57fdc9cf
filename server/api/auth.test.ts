import { describe, expect, it } from 'vitest';
import { operatorTokenFor } from './auth.js';

describe('operatorTokenFor', () => {
  it('keeps a configured token, makes one for a reachable host, and needs none on loopback', () => {
    expect(operatorTokenFor('s3cret-token', '0.0.0.0')).toEqual({ token: 's3cret-token', generated: false });
    expect(operatorTokenFor('', '127.0.0.1')).toEqual({ token: undefined, generated: false });
    const made = operatorTokenFor('', '0.0.0.0');
    expect(made.generated).toBe(true);
    expect(made.token).toMatch(/^[\w-]{40,}$/);
    expect(operatorTokenFor('', '0.0.0.0').token).not.toBe(made.token);
  });
});
