import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { tempFolder } from '../../test/support/server.js';
import { parseSavedState } from './saved-state.js';
import { createDebouncedWriter, readJsonFile, writeFileAtomic } from './state-file.js';

const folders: Array<ReturnType<typeof tempFolder>> = [];
afterEach(() => folders.splice(0).forEach((f) => f.remove()));
const folder = () => folders[folders.push(tempFolder('easel-state-file-')) - 1]!.dir;
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('writeFileAtomic', () => {
  it('replaces the file whole, creating its folder, and leaves no temporary file', async () => {
    const file = path.join(folder(), 'deep', 'state.json');
    await writeFileAtomic(file, 'one');
    await writeFileAtomic(file, 'two');
    expect(readFileSync(file, 'utf8')).toBe('two');
    expect(readdirSync(path.dirname(file))).toEqual(['state.json']);
  });
});

describe('readJsonFile', () => {
  it('is undefined for no file, and moves an unparsable or invalid one aside with one warning', async () => {
    const dir = folder();
    const file = path.join(dir, 'state.json');
    const { logger, lines } = captureLogs();
    expect(await readJsonFile(file, parseSavedState, logger)).toBeUndefined();
    expect(lines).toHaveLength(0);
    for (const text of [
      '{"version": 1, "canv',
      '{"version": 2, "canvases": {}, "playlists": []}',
      '{"version": 1, "canvases": {"a": {"hold": {"imageId": "x", "file": "../../etc/passwd", "until": null}}}, "playlists": []}',
    ]) {
      writeFileSync(file, text);
      expect(await readJsonFile(file, parseSavedState, logger)).toBeUndefined();
      expect(existsSync(file)).toBe(false);
    }
    expect(lines.filter((l) => l.level === 40)).toHaveLength(3);
    expect(lines.at(-1)).toMatchObject({ file, reason: expect.stringContaining('canvases.a.hold.file') });
    expect(readdirSync(dir).filter((n) => n.startsWith('state.json.corrupt-')).length).toBeGreaterThanOrEqual(1);
  });
});

describe('createDebouncedWriter', () => {
  it('writes the first change at once, then at most once per interval, and flushes on close', async () => {
    const clock = new FakeClock();
    const { logger } = captureLogs();
    let writes = 0;
    const writer = createDebouncedWriter({ write: async () => void writes++, clock, intervalMs: 1000, logger, file: 'f' });
    writer.changed();
    clock.advance(0);
    await settle();
    expect(writes).toBe(1);
    for (let i = 0; i < 40; i++) {
      writer.changed();
      clock.advance(100);
      await settle();
    }
    // 4 s of changes every 100 ms: one write a second.
    expect(writes).toBeGreaterThanOrEqual(4);
    expect(writes).toBeLessThanOrEqual(5);
    const before = writes;
    writer.changed();
    await writer.close();
    expect(writes).toBe(before + 1);
    writer.changed();
    clock.advance(5000);
    await settle();
    expect(writes).toBe(before + 1);
  });

  it('logs a failing write once per kind of failure, not once per change', async () => {
    const clock = new FakeClock();
    const { logger, lines } = captureLogs();
    const writer = createDebouncedWriter({
      write: async () => Promise.reject(Object.assign(new Error('no space'), { code: 'ENOSPC' })),
      clock,
      intervalMs: 1000,
      logger,
      file: 'f',
    });
    for (let i = 0; i < 10; i++) {
      writer.changed();
      clock.advance(1000);
      await settle();
    }
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);
    await writer.close();
  });
});
