import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, resolveCanvas } from '../config.js';
import { isEaselError } from '../errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const emptyDir = () => {
  const d = mkdtempSync(path.join(tmpdir(), 'easel-config-'));
  dirs.push(d);
  return d;
};
const load = (env: Record<string, string>) => loadConfig({ env, configDir: emptyDir() });

/** The message of the config error loading `env` gives. */
function refused(env: Record<string, string>): string {
  try {
    load(env);
  } catch (err) {
    expect(isEaselError(err, 'EASEL_ERR_CONFIG_INVALID')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to throw');
}

describe('the archive settings', () => {
  it('default to ./archive with 4 GB, 30 days, a 1 GB floor, 90 days of play logs and a 256 MB thumbnail cache', () => {
    expect(load({}).archive).toEqual({ dir: 'archive', maxMb: 4096, maxAgeDays: 30, minFreeMb: 1024, playLogDays: 90, thumbCacheMb: 256 });
  });

  it('are read from EASEL_ARCHIVE_* and a config file; "" turns the archive off', () => {
    expect(
      load({
        EASEL_ARCHIVE_DIR: '',
        EASEL_ARCHIVE_MAX_MB: '100',
        EASEL_ARCHIVE_MAX_AGE_DAYS: '0',
        EASEL_ARCHIVE_MIN_FREE_MB: '0',
        EASEL_ARCHIVE_PLAY_LOG_DAYS: '7',
        EASEL_ARCHIVE_THUMB_CACHE_MB: '16',
      }).archive,
    ).toEqual({ dir: '', maxMb: 100, maxAgeDays: 0, minFreeMb: 0, playLogDays: 7, thumbCacheMb: 16 });
    const dir = emptyDir();
    const file = path.join(dir, 'site.json');
    writeFileSync(file, JSON.stringify({ archive: { dir: '/srv/easel-archive', maxMb: 20000 } }));
    expect(loadConfig({ env: {}, argv: ['--config', file], configDir: dir }).archive).toMatchObject({
      dir: '/srv/easel-archive',
      maxMb: 20000,
      maxAgeDays: 30,
    });
  });

  it('refuse a value they cannot use, naming the key', () => {
    expect(refused({ EASEL_ARCHIVE_MAX_MB: '0' })).toMatch(/archive\.maxMb: must be an integer from 1 to/);
    expect(refused({ EASEL_ARCHIVE_MAX_MB: 'lots' })).toMatch(/archive\.maxMb/);
    expect(refused({ EASEL_ARCHIVE_MAX_AGE_DAYS: '-1' })).toMatch(/archive\.maxAgeDays: must be an integer from 0 to/);
    expect(refused({ EASEL_ARCHIVE_MIN_FREE_MB: '1.5' })).toMatch(/archive\.minFreeMb: must be an integer/);
    expect(refused({ EASEL_ARCHIVE_PLAY_LOG_DAYS: '0' })).toMatch(/archive\.playLogDays: must be an integer from 1 to/);
    expect(refused({ EASEL_ARCHIVE_THUMB_CACHE_MB: '' })).toMatch(/archive\.thumbCacheMb/);
  });

  it('refuse an unknown archive key in a config file', () => {
    const dir = emptyDir();
    const file = path.join(dir, 'site.json');
    writeFileSync(file, JSON.stringify({ archive: { maxGb: 4 } }));
    let message = '';
    try {
      loadConfig({ env: {}, argv: ['--config', file], configDir: dir });
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/archive\.maxGb/);
  });
});

describe('a canvas kept out of the archive', () => {
  it('says "archive": false; a canvas that does not say is archived', () => {
    const config = load({ EASEL_CANVASES: JSON.stringify([{ slug: 'lobby', archive: false }, { slug: 'wall' }]) });
    expect(resolveCanvas(config, config.canvases[0]!).archive).toBe(false);
    expect(resolveCanvas(config, config.canvases[1]!).archive).toBe(true);
  });

  it('is refused with anything but true or false there, naming the entry', () => {
    expect(refused({ EASEL_CANVASES: JSON.stringify([{ slug: 'ok' }, { slug: 'lobby', archive: 'no' }]) })).toMatch(
      /canvases\[1\]\.archive: .*true or false/,
    );
    expect(refused({ EASEL_CANVASES: JSON.stringify([{ slug: 'lobby', archives: false }]) })).toMatch(
      /canvases\[0\]\.archives: unknown setting; allowed are .*archive/,
    );
  });
});
