import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parse } from 'yaml';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { isEaselError } from '../errors.js';
import { systemClock, type Clock } from '../stream/clock.js';
import { PlaylistError } from './parse-playlist.js';
import { createPlaylistStore, type PlaylistChange, type PlaylistStoreOptions } from './playlist-store.js';

const folders: string[] = [];
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

const STILL = (s: number) => `loop: true\nsteps:\n  - still: a.png\n    duration: ${s}s\n`;

function setup(files: Record<string, string>, clock: Clock = new FakeClock(), overrides: Partial<PlaylistStoreOptions> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-playlists-'));
  folders.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const { logger, lines } = captureLogs();
  const store = createPlaylistStore({ dir, clock, logger, debounceMs: 20, rescanIntervalMs: 60_000, removeGraceMs: 0, ...overrides });
  closers.push(() => store.close());
  const changes: PlaylistChange[] = [];
  store.onChange((c) => changes.push(c));
  const write = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
  return { dir, store, lines, changes, write, clock };
}

describe('createPlaylistStore', () => {
  it('loads every .yaml and .yml file of the folder, and lists each with its status', async () => {
    const { store } = setup({
      'calm.yaml': STILL(5),
      'night.yml': STILL(7),
      'broken.yaml': 'steps:\n  - still: a.png\n    duration: forever\n',
      'notes.txt': 'x',
      '.hidden.yaml': STILL(1),
    });
    await store.load();
    expect(store.list().map((l) => [l.name, l.status])).toEqual([
      ['broken', 'error'],
      ['calm', 'ok'],
      ['night', 'ok'],
    ]);
    expect(store.get('night')?.steps[0]?.hold).toEqual({ kind: 'time', ms: 7000 });
    expect(store.get('broken')).toBeUndefined();
    expect(store.list()[0]!.error).toMatchObject({ code: 'EASEL_ERR_PLAYLIST_INVALID', line: 3, column: 15 });
  });

  it('reloads a file edited live, through the folder watcher', async () => {
    const { store, write, changes } = setup({ 'calm.yaml': STILL(5) }, systemClock);
    await store.load();
    write('calm.yaml', STILL(9));
    await vi.waitFor(() => expect(store.get('calm')?.steps[0]?.hold).toEqual({ kind: 'time', ms: 9000 }), { timeout: 5000 });
    write('fresh.yaml', STILL(3));
    await vi.waitFor(() => expect(store.get('fresh')).toBeDefined(), { timeout: 5000 });
    expect(changes.map((c) => `${c.type} ${c.name}`)).toEqual(['added calm', 'changed calm', 'added fresh']);
  });

  it('keeps the old version running through a broken edit, reporting line and column once', async () => {
    const { store, write, lines, changes, dir } = setup({ 'calm.yaml': STILL(5) });
    await store.load();
    write('calm.yaml', 'loop: true\nsteps:\n  - still: a.png\n    duraton: 5s\n');
    await store.rescan();
    await store.rescan();
    expect(store.get('calm')?.steps[0]?.hold).toEqual({ kind: 'time', ms: 5000 });
    const [row] = store.list();
    expect(row).toMatchObject({ name: 'calm', status: 'error', error: { line: 4, column: 5 }, playlist: { name: 'calm' } });
    expect(row!.error!.message).toBe(
      `Invalid playlist "${path.join(dir, 'calm.yaml')}" at line 4, column 5: Unknown key "duraton" (did you mean "duration"?)`,
    );
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ playlist: 'calm', line: 4, column: 5, keptPrevious: true, code: 'EASEL_ERR_PLAYLIST_INVALID' });
    expect(String(warnings[0]!.msg)).toMatch(/line 4, column 5.*the previous version keeps running$/);
    expect(changes.at(-1)).toMatchObject({ type: 'invalid', name: 'calm', previous: { name: 'calm' } });

    write('calm.yaml', STILL(8));
    await store.rescan();
    expect(store.list()[0]).toMatchObject({ status: 'ok' });
    expect(store.list()[0]!.error).toBeUndefined();
    expect(store.get('calm')?.steps[0]?.hold).toEqual({ kind: 'time', ms: 8000 });
    expect(changes.at(-1)).toMatchObject({ type: 'changed', name: 'calm' });
  });

  it('rescans on its own now and then, in case change events get lost', async () => {
    const clock = new FakeClock();
    const { store, write } = setup({}, clock, { rescanIntervalMs: 5000 });
    await store.load();
    write('late.yaml', STILL(2));
    clock.advance(5000);
    await vi.waitFor(() => expect(store.get('late')).toBeDefined());
  });

  it('waits a moment before dropping a file that vanished, as editors save by renaming', async () => {
    const clock = new FakeClock();
    const { store, dir, changes } = setup({ 'calm.yaml': STILL(5) }, clock, { removeGraceMs: 1000 });
    await store.load();
    unlinkSync(path.join(dir, 'calm.yaml'));
    await store.rescan();
    expect(store.get('calm')).toBeDefined();
    clock.advance(1000);
    await vi.waitFor(() => expect(store.get('calm')).toBeUndefined());
    expect(changes.at(-1)).toEqual({ type: 'removed', name: 'calm' });
  });

  it('saves a YAML body as written, atomically, and serves it at once', async () => {
    const { store, dir, changes } = setup({});
    await store.load();
    const body = '# Friday show\nloop: true\nsteps:\n  - pause:\n    duration: 3s\n';
    const entry = await store.put('friday', body);
    expect(entry).toMatchObject({ name: 'friday', status: 'ok', file: path.join(dir, 'friday.yaml') });
    expect(readFileSync(path.join(dir, 'friday.yaml'), 'utf8')).toBe(body);
    expect(readdirSync(dir)).toEqual(['friday.yaml']); // no temporary file left behind
    expect(store.get('friday')?.loop).toBe(true);
    expect(changes).toEqual([{ type: 'added', name: 'friday', playlist: store.get('friday') }]);
    await store.rescan(); // the watcher seeing our own write changes nothing
    expect(changes).toHaveLength(1);
  });

  it('saves a JSON body as YAML of the same structure', async () => {
    const { store, dir } = setup({});
    await store.load();
    const body = { loop: false, canvases: ['lobby'], steps: [{ prompt: 'calm sea', seed: 4, duration: '45s' }] };
    await store.put('sea', JSON.stringify(body));
    const saved = readFileSync(path.join(dir, 'sea.yaml'), 'utf8');
    expect(saved).not.toContain('{');
    expect(parse(saved)).toEqual(body);
    expect(store.get('sea')?.steps[0]).toMatchObject({ type: 'prompt', prompt: 'calm sea', seed: 4 });
  });

  it('refuses an invalid body with its line and column, and writes nothing', async () => {
    const { store, dir } = setup({ 'calm.yaml': STILL(5) });
    await store.load();
    const error = await store.put('calm', 'steps:\n  - still: a.png\n').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PlaylistError);
    expect(error).toMatchObject({ line: 2, column: 5 });
    expect(readFileSync(path.join(dir, 'calm.yaml'), 'utf8')).toBe(STILL(5));
    const badName = await store.put('Bad Name', STILL(1)).catch((e: unknown) => e);
    expect(isEaselError(badName, 'EASEL_ERR_PLAYLIST_INVALID')).toBe(true);
    expect((badName as Error).message).toBe('Invalid playlist name "Bad Name"');
  });

  it('deletes a playlist and its file, and says when there is none', async () => {
    const { store, dir, changes } = setup({ 'calm.yml': STILL(5) });
    await store.load();
    await store.delete('calm');
    expect(existsSync(path.join(dir, 'calm.yml'))).toBe(false);
    expect(store.get('calm')).toBeUndefined();
    expect(changes.at(-1)).toEqual({ type: 'removed', name: 'calm' });
    const missing = await store.delete('calm').catch((e: unknown) => e);
    expect(isEaselError(missing, 'EASEL_ERR_NOT_FOUND')).toBe(true);
  });

  it('starts with no playlists when the folder is missing, and creates it on the first put', async () => {
    const { store, lines, dir } = setup({}, new FakeClock(), {});
    rmSync(dir, { recursive: true });
    await store.rescan();
    expect(store.list()).toEqual([]);
    expect(lines.some((l) => String(l.msg).includes('does not exist'))).toBe(true);
    await store.put('first', STILL(2));
    expect(existsSync(path.join(dir, 'first.yaml'))).toBe(true);
  });
});
