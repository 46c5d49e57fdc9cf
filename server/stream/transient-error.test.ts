import { describe, expect, it } from 'vitest';
import { EaselError } from '../errors.js';
import { isTransientFsError } from './transient-error.js';

const fsError = (code: string) => Object.assign(new Error(`${code}: open '/srv/art/a.jpg'`), { code });

describe('transient file-system errors', () => {
  it('are the "not now" codes: out of descriptors (process or system), busy, try again', () => {
    for (const code of ['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']) expect(isTransientFsError(fsError(code)), code).toBe(true);
  });

  it('are not the "never" codes, nor errors without a code', () => {
    for (const code of ['ENOENT', 'EACCES', 'EISDIR', 'EIO', 'ERR_INVALID_ARG_TYPE'])
      expect(isTransientFsError(fsError(code)), code).toBe(false);
    for (const err of [new Error('Input buffer contains unsupported image format'), undefined, null, 'EMFILE', { code: 24 }])
      expect(isTransientFsError(err)).toBe(false);
  });

  it('are found as the cause of an error that wraps them, as a failed render reports it', () => {
    const render = new EaselError('EASEL_ERR_IMAGE_UNREADABLE', 'Image could not be decoded', { hint: 'x', cause: fsError('ENFILE') });
    expect(isTransientFsError(render)).toBe(true);
    expect(isTransientFsError(new Error('outer', { cause: new Error('middle', { cause: fsError('EBUSY') }) }))).toBe(true);
    expect(isTransientFsError(new EaselError('EASEL_ERR_IMAGE_UNREADABLE', 'gone', { hint: 'x', cause: fsError('ENOENT') }))).toBe(false);
  });

  it('stop looking after a few causes, so a cycle of causes cannot hang a source', () => {
    const a: Error & { cause?: unknown } = new Error('a');
    const b = new Error('b', { cause: a });
    a.cause = b;
    expect(isTransientFsError(a)).toBe(false);
  });
});
