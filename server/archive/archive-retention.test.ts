import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_T0, archiveDir, archiveStoreFor, frameFor, removeArchiveDirs, tinyPng } from '../../test/support/archive-fixtures.js';
import { until } from '../../test/support/until.js';
import { isEaselError } from '../errors.js';
import type { ArchiveStore } from './archive-entry.js';
import type { ArchiveStoreOptions } from './archive-store.js';
import { diskFreeBytes } from './free-space.js';

const stores: ArchiveStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  removeArchiveDirs();
});

async function opened(dir: string, overrides: Partial<ArchiveStoreOptions>) {
  const kit = archiveStoreFor(dir, overrides);
  stores.push(kit.store);
  await kit.store.open();
  return kit;
}

const HOUR = 3_600_000;
const ids = (store: ArchiveStore) => [...store.select({})].map((e) => e.id);

describe('archive retention', () => {
  it('past the size limit removes the oldest unstarred entries first and keeps starred ones', async () => {
    const dir = archiveDir();
    const png = await tinyPng();
    const { store, lines, clock } = await opened(dir, { maxBytes: 5 * png.length });
    const written = [];
    for (let i = 0; i < 8; i++) {
      written.push(await store.write(frameFor('wall-1', png, ARCHIVE_T0 + i * 1000, { seq: i })));
      if (i === 1) await store.setStarred(written[0]!.id, true);
    }
    // Kept: the starred first one and the four newest; 1, 2 and 3 went, oldest first.
    const kept = [written[0], ...written.slice(4)].map((e) => e!.id);
    expect(ids(store).sort()).toEqual(kept.sort());
    expect(store.stats()).toMatchObject({ entries: 5, bytes: 5 * png.length, starred: 1 });
    for (const gone of written.slice(1, 4)) {
      expect(existsSync(path.join(dir, gone.file))).toBe(false);
      expect(existsSync(path.join(dir, gone.file.replace(/\.png$/, '.json')))).toBe(false);
    }
    // Quiet after each write; the next sweep says what went, in one line.
    const said = () => lines.filter((l) => /retention removed/.test(String(l.msg))).map((l) => l.removed);
    expect(said()).toEqual([]);
    clock.advance(60_000);
    await until(() => (said().length > 0 ? true : undefined));
    expect(said()).toEqual([3]);
    await store.close();
    const again = await opened(dir, { maxBytes: 5 * png.length });
    expect(ids(again.store).sort()).toEqual(kept.sort());
  });

  it('removes a backlog at start when the size limit was lowered, keeping the newest and the starred', async () => {
    const dir = archiveDir();
    const png = await tinyPng();
    const first = await opened(dir, {});
    const written = [];
    for (let i = 0; i < 40; i++) written.push(await first.store.write(frameFor('wall-1', png, ARCHIVE_T0 + i * 1000)));
    await first.store.setStarred(written[5]!.id, true);
    await first.store.close();
    const { store, lines } = await opened(dir, { maxBytes: 10 * png.length });
    const kept = [written[5]!, ...written.slice(31)].map((e) => e.id);
    expect(ids(store).sort()).toEqual(kept.sort());
    expect(lines.find((l) => /retention removed/.test(String(l.msg)))).toMatchObject({ removed: 30 });
    const old = [...store.select({ to: ARCHIVE_T0 + 31_000 })];
    expect(old.map((e) => e.id)).toEqual([written[5]!.id]);
    expect(existsSync(path.join(dir, written[4]!.file))).toBe(false);
  });

  it('removes unstarred entries older than the age limit on its timer, and keeps starred ones', async () => {
    const dir = archiveDir();
    const png = await tinyPng();
    const { store, clock } = await opened(dir, { maxAgeDays: 1, sweepIntervalMs: 60_000 });
    const old = await store.write(frameFor('wall-1', png, ARCHIVE_T0 - 20 * HOUR));
    const oldStarred = await store.write(frameFor('wall-1', png, ARCHIVE_T0 - 19 * HOUR));
    await store.setStarred(oldStarred.id, true);
    const fresh = await store.write(frameFor('wall-1', png, ARCHIVE_T0 - 1 * HOUR));
    clock.advance(60_000);
    await store.setStarred(fresh.id, false); // waits for the sweep: it runs in turn with changes
    expect(store.stats().entries).toBe(3);
    clock.advance(5 * HOUR); // now `old` and `oldStarred` are over a day old
    await until(() => (store.stats().entries === 2 ? true : undefined));
    expect(ids(store).sort()).toEqual([oldStarred.id, fresh.id].sort());
    expect(existsSync(store.imagePath(old))).toBe(false);
    clock.advance(48 * HOUR);
    await until(() => (store.stats().entries === 1 ? true : undefined));
    expect(ids(store)).toEqual([oldStarred.id]);
  });

  it('rewrites index.jsonl whole when its removal lines outgrow the entries', async () => {
    const dir = archiveDir();
    const png = await tinyPng();
    const { store } = await opened(dir, { maxBytes: 3 * png.length });
    for (let i = 0; i < 600; i++) await store.write(frameFor('wall-1', png, ARCHIVE_T0 + i * 10));
    const lines = readFileSync(path.join(dir, 'index.jsonl'), 'utf8').split('\n').filter(Boolean);
    expect(lines.length).toBeLessThan(1000); // 600 entries and 597 removals were written in all
    const kept = ids(store);
    expect(kept).toHaveLength(3);
    await store.close();
    const again = await opened(dir, { maxBytes: 3 * png.length });
    expect(ids(again.store)).toEqual(kept);
    expect(again.lines.filter((l) => /rebuilt|in step/.test(String(l.msg)))).toEqual([]);
  });

  it("removes the day folders it emptied, but not today's or yesterday's, nor one holding a stranger's file", async () => {
    const dir = archiveDir();
    const png = await tinyPng();
    const first = await opened(dir, { maxBytes: png.length });
    const folderOf = (e: { file: string }) => path.join(dir, path.dirname(e.file));
    const tenDays = await first.store.write(frameFor('wall-1', png, ARCHIVE_T0 - 240 * HOUR));
    const nineDays = await first.store.write(frameFor('wall-1', png, ARCHIVE_T0 - 216 * HOUR));
    expect(existsSync(folderOf(tenDays))).toBe(false);
    writeFileSync(path.join(folderOf(nineDays), 'notes.txt'), 'a person keeps notes here');
    const yesterday = await first.store.write(frameFor('wall-1', png, ARCHIVE_T0 - 24 * HOUR));
    const today = await first.store.write(frameFor('wall-1', png, ARCHIVE_T0));
    expect(ids(first.store)).toEqual([today.id]);
    expect(readdirSync(folderOf(nineDays))).toEqual(['notes.txt']);
    // Yesterday's folder stays, empty: a frame could be on its way into it just after midnight.
    expect(readdirSync(folderOf(yesterday))).toEqual([]);
    await first.store.close();

    // Emptied by hand while stopped: the next start removes it, and still not yesterday's.
    rmSync(path.join(folderOf(nineDays), 'notes.txt'));
    const again = await opened(dir, { maxBytes: png.length });
    expect(existsSync(folderOf(nineDays))).toBe(false);
    expect(existsSync(folderOf(yesterday))).toBe(true);
    expect(ids(again.store)).toEqual([today.id]);
    expect(again.lines.filter((l) => Number(l.level) >= 40)).toEqual([]);
  });

  it('does not keep a frame already past the age limit', async () => {
    const { store } = await opened(archiveDir(), { maxAgeDays: 30 });
    const png = await tinyPng();
    const stale = await store.write(frameFor('wall-1', png, ARCHIVE_T0 - 31 * 24 * HOUR));
    expect(store.get(stale.id)).toBeUndefined();
    expect(store.stats().entries).toBe(0);
  });
});

describe('the free-space floor', () => {
  it('pauses writes below the floor with one warning, and resumes with one line once there is room', async () => {
    let free = 10_000_000;
    const png = await tinyPng();
    const { store, lines, clock } = await opened(archiveDir(), { minFreeBytes: 5_000_000, freeBytes: async () => free });
    await store.write(frameFor('wall-1', png, ARCHIVE_T0));
    free = 4_000_000;
    for (let i = 1; i <= 3; i++) {
      const err = await store.write(frameFor('wall-1', png, ARCHIVE_T0 + i)).catch((e: unknown) => e);
      expect(isEaselError(err, 'EASEL_ERR_ARCHIVE_PAUSED')).toBe(true);
    }
    expect(store.stats()).toMatchObject({ entries: 1, paused: true });
    const said = () => lines.filter((l) => /Archive (paused|resumed)/.test(String(l.msg))).map((l) => [l.level, l.msg]);
    expect(said()).toHaveLength(1);
    expect(said()[0]![0]).toBe(40);

    free = 6_000_000;
    await store.write(frameFor('wall-1', png, ARCHIVE_T0 + 10));
    expect(store.stats()).toMatchObject({ entries: 2, paused: false });
    expect(said()).toHaveLength(2);
    expect(said()[1]![0]).toBe(30);

    // Without writes, the timer notices both ways.
    free = 1_000;
    clock.advance(60_000);
    await until(() => (store.stats().paused ? true : undefined));
    free = 6_000_000;
    clock.advance(60_000);
    await until(() => (store.stats().paused ? undefined : true));
    expect(said()).toHaveLength(4);
  });

  it('goes on archiving, said once, when the free space cannot be read', async () => {
    const png = await tinyPng();
    const { store, lines } = await opened(archiveDir(), {
      minFreeBytes: 5_000_000,
      freeBytes: async () => {
        throw new Error('statfs failed');
      },
    });
    await store.write(frameFor('wall-1', png, ARCHIVE_T0));
    await store.write(frameFor('wall-1', png, ARCHIVE_T0 + 1));
    expect(store.stats()).toMatchObject({ entries: 2, paused: false });
    expect(lines.filter((l) => /cannot read the free space/.test(String(l.msg)))).toHaveLength(1);
  });

  it('reads the free space of a real disk', async () => {
    expect(await diskFreeBytes(tmpdir())).toBeGreaterThan(0);
  });
});
