import { mkdtempSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { captureLogs } from '../../test/support/log-capture.js';
import { EaselError } from '../errors.js';
import { systemClock } from './clock.js';
import { createFolderSource, type FolderSourceOptions } from './folder-source.js';

const folders: string[] = [];
const closers: Array<() => Promise<void>> = [];

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

/** Writes a file whose mtime is a minute old, so it counts as settled. */
const put = (dir: string, name: string, body = name) => {
  const file = path.join(dir, name);
  writeFileSync(file, body);
  const old = new Date(Date.now() - 60_000);
  utimesSync(file, old, old);
};

const setup = (files: string[], overrides: Partial<FolderSourceOptions> = {}) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-folder-'));
  folders.push(dir);
  for (const f of files) put(dir, f);
  const { logger, lines } = captureLogs();
  const source = createFolderSource({
    path: dir,
    order: 'name',
    maxFileBytes: 1000,
    logger,
    clock: systemClock,
    rescanIntervalMs: 200,
    ...overrides,
  });
  closers.push(() => source.close());
  const signal = new AbortController().signal;
  const take = async () => (await source.next(signal)).data.toString();
  return { dir, source, take, lines, signal };
};

describe('createFolderSource', () => {
  it('loops over images in natural name order and ignores other files', async () => {
    const { take } = setup(['b.png', 'a10.jpg', 'a2.jpg', 'notes.txt', '.hidden.png']);
    const seen = [];
    for (let i = 0; i < 7; i++) seen.push(await take());
    expect(seen).toEqual(['a2.jpg', 'a10.jpg', 'b.png', 'a2.jpg', 'a10.jpg', 'b.png', 'a2.jpg']);
  });

  it('gives the same id and cache key each loop while a file is unchanged', async () => {
    const { source, signal } = setup(['a.jpg', 'b.jpg']);
    const first = await source.next(signal);
    await source.next(signal);
    const again = await source.next(signal);
    expect(again.id).toBe(first.id);
    expect(again.cacheKey).toBe(first.cacheKey);
    expect(first).toMatchObject({ source: 'folder' });
  });

  it('shuffles every loop without showing the same image twice in a row', async () => {
    let seed = 1;
    const random = () => (seed = (seed * 16807) % 2147483647) / 2147483647;
    const { take } = setup(['1.png', '2.png', '3.png', '4.png'], { order: 'shuffle', random });
    const seen: string[] = [];
    for (let i = 0; i < 40; i++) seen.push(await take());
    for (let loop = 0; loop < 10; loop++) expect(new Set(seen.slice(loop * 4, loop * 4 + 4)).size).toBe(4);
    expect(seen.every((s, i) => i === 0 || s !== seen[i - 1])).toBe(true);
  });

  it('skips an image the canvas could not render until the file changes, logging it once', async () => {
    const { source, signal, lines, dir } = setup(['a.jpg', 'b.jpg', 'c.jpg']);
    const a = await source.next(signal);
    const b = await source.next(signal);
    source.reject(b, new EaselError('EASEL_ERR_IMAGE_UNREADABLE', 'Image could not be decoded: bad', { hint: 'Re-export it' }));
    const seen = [];
    for (let i = 0; i < 6; i++) seen.push((await source.next(signal)).data.toString());
    expect(seen).toEqual(['c.jpg', 'a.jpg', 'c.jpg', 'a.jpg', 'c.jpg', 'a.jpg']);
    const warnings = lines.filter((l) => String(l.msg).includes('b.jpg'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ code: 'EASEL_ERR_IMAGE_UNREADABLE', hint: 'Re-export it', file: 'b.jpg' });
    expect(source.status().details).toMatchObject({ unusable: 1, skippedTotal: 1 });
    expect(a.id).not.toBe(b.id);
    put(dir, 'b.jpg', 'b.jpg fixed'); // a new version is tried again
    const after = [];
    for (let i = 0; i < 3; i++) after.push((await source.next(signal)).data.toString());
    expect(after).toContain('b.jpg fixed');
  });

  it('tries a file again after EMFILE instead of marking it bad, and says so in one line', async () => {
    let exhausted = true;
    const readFile = async (file: string) => {
      // As under a connection flood: the process has no descriptor left to open the file.
      if (exhausted && !file.endsWith('a.jpg'))
        throw Object.assign(new Error(`EMFILE: too many open files, open '${file}'`), { code: 'EMFILE', errno: -24 });
      return readFileSync(file);
    };
    const { source, take, lines } = setup(['a.jpg', 'b.jpg', 'c.jpg'], { readFile });
    expect(await take()).toBe('a.jpg');
    const pending = take();
    await new Promise((r) => setTimeout(r, 100));
    exhausted = false;
    const seen = [await pending, await take(), await take(), await take()];
    expect(seen).toContain('b.jpg');
    expect(seen).toContain('c.jpg');
    expect(source.status().details).toMatchObject({ unusable: 0, skippedTotal: 0 });
    expect(lines.filter((l) => String(l.msg).startsWith('Skipping image'))).toEqual([]);
    const transient = lines.filter((l) => l.code === 'EMFILE');
    expect(transient).toHaveLength(1);
    expect(transient[0]!.msg).toMatch(/trying again shortly/);
  });

  it('does not mark an image bad when rendering it failed for want of descriptors', async () => {
    const { source, signal, take } = setup(['a.jpg', 'b.jpg']);
    const a = await source.next(signal);
    source.reject(
      a,
      new EaselError('EASEL_ERR_IMAGE_UNREADABLE', 'Image could not be decoded: EMFILE', {
        hint: 'x',
        cause: Object.assign(new Error('EMFILE'), { code: 'EMFILE' }),
      }),
    );
    expect([await take(), await take()]).toEqual(['b.jpg', 'a.jpg']);
    expect(source.status().details).toMatchObject({ unusable: 0 });
  });

  it('refuses a file over the byte limit without reading it', async () => {
    const { take, dir, lines } = setup(['a.jpg']);
    put(dir, 'huge.jpg', 'x'.repeat(2000));
    put(dir, 'z.jpg');
    expect([await take(), await take(), await take()]).toEqual(['a.jpg', 'z.jpg', 'a.jpg']);
    expect(lines.some((l) => l.code === 'EASEL_ERR_IMAGE_TOO_LARGE' && l.file === 'huge.jpg')).toBe(true);
  });

  it('holds on the only image instead of handing it out again, until another arrives', async () => {
    const { source, signal, take, dir } = setup(['only.jpg']);
    expect(await take()).toBe('only.jpg');
    let resolved = false;
    const pending = source.next(signal).then((img) => {
      resolved = true;
      return img.data.toString();
    });
    await new Promise((r) => setTimeout(r, 300));
    expect(resolved).toBe(false);
    put(dir, 'new.jpg');
    expect(await pending).toBe('new.jpg');
  });

  it('shows a newly added image next, then keeps it in its place in the loop', async () => {
    const { source, take, dir } = setup(['a.jpg', 'b.jpg', 'c.jpg']);
    expect(await take()).toBe('a.jpg');
    put(dir, 'zz-new.jpg');
    await source.rescan();
    expect(await take()).toBe('zz-new.jpg');
    expect([await take(), await take(), await take()]).toEqual(['b.jpg', 'c.jpg', 'zz-new.jpg']);
  });

  it('notices added and removed files by watching the folder, without a rescan call', async () => {
    const { take, dir } = setup(['a.jpg', 'b.jpg'], { rescanIntervalMs: 60_000 });
    expect(await take()).toBe('a.jpg');
    put(dir, 'c.jpg');
    rmSync(path.join(dir, 'b.jpg'));
    await vi.waitFor(async () => expect(await take()).toBe('c.jpg'), { timeout: 3000, interval: 50 });
    const later = [await take(), await take(), await take()];
    expect(later).not.toContain('b.jpg');
  });

  it('waits for a file that is still being written instead of showing half of it', async () => {
    const { take, dir } = setup(['a.jpg'], { settleMs: 400 });
    expect(await take()).toBe('a.jpg');
    writeFileSync(path.join(dir, 'fresh.jpg'), 'fresh.jpg'); // mtime now: not settled yet
    const started = Date.now();
    expect(await take()).toBe('fresh.jpg');
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
  });

  it('says in plain words when the folder is missing or empty, and recovers when images appear', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'easel-folder-'));
    folders.push(parent);
    const dir = path.join(parent, 'later');
    const { logger } = captureLogs();
    const source = createFolderSource({ path: dir, order: 'name', maxFileBytes: 1000, logger, clock: systemClock, rescanIntervalMs: 100 });
    closers.push(() => source.close());
    await source.rescan();
    expect(source.status()).toMatchObject({ state: 'failed', reason: `Folder "${dir}" does not exist` });
    expect(source.status().hint).toMatch(/Create the folder/);
    mkdirSync(dir);
    await source.rescan();
    expect(source.status()).toMatchObject({ state: 'waiting', reason: `Folder "${dir}" has no images` });
    const next = source.next(new AbortController().signal);
    put(dir, 'first.png');
    expect((await next).data.toString()).toBe('first.png');
    expect(source.status().state).toBe('ok');
  });

  it('stops waiting when its signal aborts', async () => {
    const { source, take } = setup(['only.jpg']);
    await take();
    const controller = new AbortController();
    const pending = source.next(controller.signal);
    controller.abort(new Error('canvas closed'));
    await expect(pending).rejects.toThrow('canvas closed');
  });
});
