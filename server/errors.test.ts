import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './config.js';
import { ERROR_CODES, EaselError, isEaselError } from './errors.js';

describe('the error catalog', () => {
  it('has a row in docs/errors.md for every code, and no row for a code that does not exist', () => {
    const doc = readFileSync(path.join(PROJECT_ROOT, 'docs/errors.md'), 'utf8');
    const documented = [...doc.matchAll(/^\| `(EASEL_ERR_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });

  it('carries a code and a hint, and serialises without the stack or the cause', () => {
    const err = new EaselError('EASEL_ERR_SLUG_INVALID', 'Invalid canvas slug "X"', {
      hint: 'Use lowercase',
      cause: new Error('inner'),
      details: { slug: 'X' },
    });
    expect(isEaselError(err, 'EASEL_ERR_SLUG_INVALID')).toBe(true);
    expect(isEaselError(err, 'EASEL_ERR_CONFIG_INVALID')).toBe(false);
    expect(JSON.parse(JSON.stringify(err))).toEqual({
      code: 'EASEL_ERR_SLUG_INVALID',
      message: 'Invalid canvas slug "X"',
      hint: 'Use lowercase',
      slug: 'X',
    });
  });
});
