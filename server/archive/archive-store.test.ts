import { existsSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_T0, archiveDir, archiveStoreFor, frameFor, removeArchiveDirs, tinyPng } from '../../test/support/archive-fixtures.js';
import { isEaselError } from '../errors.js';
import type { ArchiveEntry, ArchiveStore } from './archive-entry.js';
import { entryNames, hash8, localStamp } from './archive-ids.js';

const stores: ArchiveStore[] = [];
afterEach(async () => {
  await Promise.all(stores.splice(0).map((s) => s.close()));
  removeArchiveDirs();
});

async function opened(dir: string, overrides = {}) {
  const kit = archiveStoreFor(dir, overrides);
  stores.push(kit.store);
  await kit.store.open();
  return kit;
}

/** Writes `n` frames a second apart, alternating two canvases and two prompts. */
async function writeSome(store: ArchiveStore, n: number): Promise<ArchiveEntry[]> {
  const png = await tinyPng();
  const out: ArchiveEntry[] = [];
  for (let i = 0; i < n; i++) {
    const prompt = i % 2 ? 'a foggy harbour at dawn' : 'neon city in the rain';
    out.push(await store.write(frameFor(i % 3 ? 'wall-1' : 'wall-2', png, ARCHIVE_T0 + i * 1000, { prompt, seq: i })));
  }
  return out;
}

const everything = (store: ArchiveStore) => [...store.select({})];

describe('createArchiveStore', () => {
  it('writes the image and its metadata where docs/archive.md says, and gives them back after a restart', async () => {
    const dir = archiveDir();
    const { store } = await opened(dir);
    const png = await tinyPng('#ff0000', 40, 30);
    const madeAt = ARCHIVE_T0 + 345;
    const entry = await store.write(frameFor('wall-1', png, madeAt, { job: 'j-1', playlist: { name: 'evening', step: 2 } }));
    const { day, compactDay, time } = localStamp(madeAt);
    const name = `${time}-${hash8(png)}`;
    expect(entry).toMatchObject({
      id: `wall-1.${compactDay}.${name}`,
      canvas: 'wall-1',
      file: `wall-1/${day}/${name}.png`,
      mime: 'image/png',
      bytes: png.length,
      width: 40,
      height: 30,
      source: 'inference',
      prompt: 'a foggy harbour at dawn',
      job: 'j-1',
      playlist: { name: 'evening', step: 2 },
      madeAt: new Date(madeAt).toISOString(),
      starred: false,
    });
    expect(readFileSync(path.join(dir, entry.file))).toEqual(png);
    expect(JSON.parse(readFileSync(path.join(dir, `wall-1/${day}/${name}.json`), 'utf8'))).toEqual(entry);
    expect(store.imagePath(entry)).toBe(path.join(dir, entry.file));
    expect(store.get(entry.id)).toEqual(entry);
    expect(existsSync(path.join(dir, 'index.jsonl'))).toBe(true);
    const more = await writeSome(store, 20);
    const before = everything(store);
    expect(before).toHaveLength(21);
    await store.close();

    const again = await opened(dir);
    expect(everything(again.store)).toEqual(before);
    expect(again.store.stats()).toEqual({ entries: 21, bytes: png.length + 20 * more[0]!.bytes, starred: 0, paused: false });
    expect(again.lines.filter((l) => /rebuilt|in step/.test(String(l.msg)))).toEqual([]);
  });

  it('refuses bytes that are not an image, and a bad canvas, and writes nothing', async () => {
    const dir = archiveDir();
    const { store } = await opened(dir);
    const err = await store.write(frameFor('wall-1', Buffer.from('not an image'), ARCHIVE_T0)).catch((e: unknown) => e);
    expect(isEaselError(err, 'EASEL_ERR_IMAGE_UNREADABLE')).toBe(true);
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"/>');
    const svgErr = await store.write(frameFor('wall-1', svg, ARCHIVE_T0)).catch((e: unknown) => e);
    expect(isEaselError(svgErr, 'EASEL_ERR_UNSUPPORTED_MEDIA')).toBe(true);
    await expect(store.write(frameFor('../up', await tinyPng(), ARCHIVE_T0))).rejects.toThrow(/canvas slug/);
    const undated = frameFor('wall-1', await tinyPng(), ARCHIVE_T0, { madeAt: 'yesterday' });
    await expect(store.write(undated)).rejects.toThrow(/madeAt/);
    expect(readdirSync(dir).filter((f) => f !== 'index.jsonl')).toEqual([]);
    expect(store.stats().entries).toBe(0);
  });

  it('writes the same frame once', async () => {
    const { store } = await opened(archiveDir());
    const png = await tinyPng();
    const a = await store.write(frameFor('wall-1', png, ARCHIVE_T0));
    const b = await store.write(frameFor('wall-1', png, ARCHIVE_T0));
    expect(b).toEqual(a);
    expect(store.stats().entries).toBe(1);
  });

  it.each([
    ['deleted', (file: string) => unlinkSync(file)],
    ['cut short', (file: string) => writeFileSync(file, readFileSync(file, 'utf8').slice(0, -40))],
    ['garbage', (file: string) => writeFileSync(file, `${readFileSync(file, 'utf8')}{"op":"nonsense"}\n`)],
    ['an entry missing a field', (file: string) => writeFileSync(file, `${readFileSync(file, 'utf8')}{"id":"x"}\n`)],
  ])('rebuilds the index identically from the .json files when it is %s', async (_what, spoil) => {
    const dir = archiveDir();
    const { store } = await opened(dir);
    await writeSome(store, 12);
    await store.setStarred(everything(store)[3]!.id, true);
    await store.remove(everything(store)[5]!.id);
    const before = everything(store);
    await store.close();
    spoil(path.join(dir, 'index.jsonl'));
    const again = await opened(dir);
    expect(everything(again.store)).toEqual(before);
    expect(again.store.stats().starred).toBe(1);
    expect(again.lines.some((l) => /Archive index rebuilt/.test(String(l.msg)))).toBe(true);
    await again.store.close();
    const third = await opened(dir); // the rebuilt index is read as it is
    expect(everything(third.store)).toEqual(before);
    expect(third.lines.filter((l) => /rebuilt|in step/.test(String(l.msg)))).toEqual([]);
  });

  it('brings the index in step when entries were added or deleted behind its back', async () => {
    const dir = archiveDir();
    const { store } = await opened(dir);
    const written = await writeSome(store, 6);
    await store.close();
    // A person deletes one entry by hand; another store (a copy, a restore) adds one.
    const gone = written[2]!;
    unlinkSync(path.join(dir, gone.file));
    unlinkSync(path.join(dir, gone.file.replace(/\.png$/, '.json')));
    const other = archiveDir();
    const side = await opened(other);
    const extra = await side.store.write(frameFor('wall-1', await tinyPng('#00ff00'), ARCHIVE_T0 + 99_000));
    for (const f of [extra.file, extra.file.replace(/\.png$/, '.json')])
      writeFileSync(path.join(dir, f), readFileSync(path.join(other, f)));
    const again = await opened(dir);
    expect(everything(again.store).map((e) => e.id)).toEqual([extra, ...written.filter((e) => e !== gone).reverse()].map((e) => e.id));
    expect(again.lines.some((l) => /in step/.test(String(l.msg)))).toBe(true);
  });

  it('deletes left-over .tmp files, leaves an image without metadata alone (logged once), drops metadata without image', async () => {
    const dir = archiveDir();
    const { store } = await opened(dir);
    const [a, b] = await writeSome(store, 2);
    await store.close();
    const folder = path.dirname(path.join(dir, a!.file));
    writeFileSync(path.join(folder, '190000000-00000000.png.123-1.tmp'), 'half');
    writeFileSync(path.join(dir, 'index.jsonl.123-2.tmp'), 'half');
    const orphan = entryNames('wall-2', ARCHIVE_T0, 'deadbeef', 'image/png');
    writeFileSync(path.join(dir, orphan.file), await tinyPng());
    unlinkSync(path.join(dir, b!.file)); // a removal cut short after the image went
    const again = await opened(dir);
    expect(readdirSync(folder).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(existsSync(path.join(dir, 'index.jsonl.123-2.tmp'))).toBe(false);
    expect(existsSync(path.join(dir, orphan.file))).toBe(true);
    expect(existsSync(path.join(dir, b!.file.replace(/\.png$/, '.json')))).toBe(false);
    expect(everything(again.store).map((e) => e.id)).toEqual([a!.id]);
    const about = (file: string) => again.lines.filter((l) => l.file === file);
    expect(about(orphan.file)).toHaveLength(1);
    expect(about(orphan.file)[0]).toMatchObject({ level: 40, slug: 'wall-2' });
  });

  it('stars, unstars and removes, in the .json and the index', async () => {
    const dir = archiveDir();
    const { store } = await opened(dir);
    const [a, b] = await writeSome(store, 2);
    const starred = await store.setStarred(a!.id, true);
    expect(starred).toEqual({ ...a, starred: true });
    expect(JSON.parse(readFileSync(path.join(dir, a!.file.replace(/\.png$/, '.json')), 'utf8')).starred).toBe(true);
    expect(store.list({ starred: true }, 10).items).toEqual([starred]);
    expect(await store.setStarred('wall-1.20261201.000000000-00000000', true)).toBeUndefined();
    expect(await store.remove(b!.id)).toBe(true);
    expect(await store.remove(b!.id)).toBe(false);
    expect(await store.remove('../../etc/passwd')).toBe(false);
    expect(existsSync(path.join(dir, b!.file))).toBe(false);
    expect(store.get(b!.id)).toBeUndefined();
    await store.close();
    const again = await opened(dir);
    expect(everything(again.store)).toEqual([starred]);
    await again.store.setStarred(a!.id, false);
    expect(again.store.stats()).toMatchObject({ entries: 1, starred: 0 });
  });

  it('trusts the .json over a star line whose .json rewrite a crash cut off', async () => {
    const dir = archiveDir();
    const { store } = await opened(dir);
    const [a] = await writeSome(store, 3);
    await store.close();
    writeFileSync(
      path.join(dir, 'index.jsonl'),
      `${readFileSync(path.join(dir, 'index.jsonl'), 'utf8')}${JSON.stringify({ op: 'star', id: a!.id, starred: true })}\n`,
    );
    const again = await opened(dir);
    expect(again.store.get(a!.id)?.starred).toBe(false);
    expect(again.store.stats()).toMatchObject({ entries: 3, starred: 0 });
  });

  it('closes cleanly, also while it is still opening: no timer left, no write taken', async () => {
    const dir = archiveDir();
    const { store, clock } = await opened(dir);
    await writeSome(store, 2);
    expect(clock.pendingTimers).toBe(1);
    await store.close();
    expect(clock.pendingTimers).toBe(0);
    await expect(store.write(frameFor('wall-1', Buffer.alloc(1), ARCHIVE_T0))).rejects.toThrow(/after close/);
    await expect(store.remove('x')).rejects.toThrow(/after close/);

    const early = archiveStoreFor(dir);
    const opening = early.store.open();
    await early.store.close();
    await opening;
    expect(early.clock.pendingTimers).toBe(0);
    await expect(early.store.write(frameFor('wall-1', Buffer.alloc(1), ARCHIVE_T0))).rejects.toThrow(/after close/);
  });

  it('opened read-only, it lists without cleaning up or writing', async () => {
    const dir = archiveDir();
    const { store } = await opened(dir);
    await writeSome(store, 3);
    await store.close();
    rmSync(path.join(dir, 'index.jsonl'));
    writeFileSync(path.join(dir, 'x.tmp'), '');
    const reader = await opened(dir, { readOnly: true });
    expect(reader.store.stats().entries).toBe(3);
    expect(existsSync(path.join(dir, 'index.jsonl'))).toBe(false);
    expect(existsSync(path.join(dir, 'x.tmp'))).toBe(true);
    await expect(reader.store.write(frameFor('wall-1', await tinyPng(), ARCHIVE_T0))).rejects.toThrow(/read-only/);
    const first = [...reader.store.select({})][0]!;
    await expect(reader.store.setStarred(first.id, true)).rejects.toThrow(/read-only/);
    await expect(reader.store.remove(first.id)).rejects.toThrow(/read-only/);
    expect(reader.store.stats().entries).toBe(3);
  });
});
