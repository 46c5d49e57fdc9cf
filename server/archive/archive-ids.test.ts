import { describe, expect, it } from 'vitest';
import { entryNames, hash8, idOfFiles, localStamp, mimeOfFormat, parseArchiveId } from './archive-ids.js';

describe('archive ids and file names', () => {
  const at = new Date(2026, 11, 1, 19, 5, 12, 345).getTime(); // server local time

  it('names files HHMMSSmmm-<hash8> in a canvas/day folder, in server local time', () => {
    const names = entryNames('wall-1', at, 'ab12cd34', 'image/png');
    expect(names).toEqual({
      id: 'wall-1.20261201.190512345-ab12cd34',
      folder: 'wall-1/2026-12-01',
      name: '190512345-ab12cd34',
      file: 'wall-1/2026-12-01/190512345-ab12cd34.png',
      metaFile: 'wall-1/2026-12-01/190512345-ab12cd34.json',
    });
    expect(entryNames('a', at, 'ab12cd34', 'image/jpeg').file).toMatch(/\.jpg$/);
    expect(entryNames('a', at, 'ab12cd34', 'image/webp').file).toMatch(/\.webp$/);
    expect(localStamp(new Date(2027, 0, 2, 3, 4, 5, 6).getTime())).toEqual({
      day: '2027-01-02',
      compactDay: '20270102',
      time: '030405006',
    });
  });

  it('follows the server time zone, not UTC', () => {
    const tz = process.env.TZ;
    try {
      process.env.TZ = 'Pacific/Kiritimati'; // UTC+14: 19:05 UTC is 09:05 the next day
      expect(entryNames('wall-1', Date.parse('2026-12-01T19:05:12.345Z'), 'ab12cd34', 'image/png').id).toBe(
        'wall-1.20261202.090512345-ab12cd34',
      );
      process.env.TZ = 'UTC';
      expect(localStamp(Date.parse('2026-12-01T19:05:12.345Z')).time).toBe('190512345');
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('takes the first 8 hex digits of the sha256', () => {
    // sha256("abc") = ba7816bf 8f01cfea ...
    expect(hash8(Buffer.from('abc'))).toBe('ba7816bf');
  });

  it('parses an id back to its files, and refuses anything else', () => {
    expect(parseArchiveId('wall-1.20261201.190512345-ab12cd34')).toEqual({
      canvas: 'wall-1',
      folder: 'wall-1/2026-12-01',
      name: '190512345-ab12cd34',
      metaFile: 'wall-1/2026-12-01/190512345-ab12cd34.json',
    });
    for (const bad of [
      '',
      'wall-1',
      '../etc.20261201.190512345-ab12cd34',
      'Wall.20261201.190512345-ab12cd34',
      'wall-1.2026120.190512345-ab12cd34',
      'wall-1.20261201.190512345-AB12CD34',
      'wall-1.20261201.190512345-ab12cd34.png',
      'wall-1.20261201.190512345-ab12cd34/../x',
      `${'a'.repeat(200)}.20261201.190512345-ab12cd34`,
    ]) {
      expect(parseArchiveId(bad), bad).toBeUndefined();
    }
    expect(idOfFiles('wall-1', '2026-12-01', '190512345-ab12cd34')).toBe('wall-1.20261201.190512345-ab12cd34');
    expect(idOfFiles('wall-1', '2026-12-1', '190512345-ab12cd34')).toBeUndefined();
  });

  it('knows the image types the archive keeps', () => {
    expect(mimeOfFormat('png')).toBe('image/png');
    expect(mimeOfFormat('jpeg')).toBe('image/jpeg');
    expect(mimeOfFormat('heif', 'av1')).toBe('image/avif');
    expect(mimeOfFormat('heif', 'hevc')).toBeUndefined();
    expect(mimeOfFormat('svg')).toBeUndefined();
  });
});
