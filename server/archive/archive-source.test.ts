import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ARCHIVE_T0, archiveDir, archiveStoreFor, frameFor, removeArchiveDirs, tinyPng } from '../../test/support/archive-fixtures.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { systemClock } from '../stream/clock.js';
import type { Source } from '../stream/source.js';
import type { ArchiveEntry, ArchiveStore } from './archive-entry.js';
import { takeSelection } from './archive-selection.js';
import { archiveImageId, createArchiveSource, type ArchiveSourceOptions } from './archive-source.js';

const stores: ArchiveStore[] = [];
const sources: Source[] = [];
afterEach(async () => {
  for (const s of sources.splice(0)) await s.close();
  for (const s of stores.splice(0)) await s.close();
  removeArchiveDirs();
});

/** A real store with `count` frames of wall-1, a minute apart; the entries oldest first. */
async function archived(count: number): Promise<{ store: ArchiveStore; entries: ArchiveEntry[] }> {
  const { store } = archiveStoreFor(archiveDir());
  stores.push(store);
  await store.open();
  for (let i = 0; i < count; i++)
    await store.write(frameFor('wall-1', await tinyPng(`#0000${(i * 16).toString(16).padStart(2, '0')}`), ARCHIVE_T0 + i * 60_000));
  return { store, entries: takeSelection(store, { canvas: 'wall-1' }) };
}

function sourceOf(store: ArchiveStore, entries: ArchiveEntry[], overrides: Partial<ArchiveSourceOptions> = {}) {
  const { logger, lines } = captureLogs();
  const source = createArchiveSource({
    entries,
    imagePath: (e) => store.imagePath(e),
    order: 'name',
    maxFileBytes: 1_000_000,
    label: 'wall-1',
    logger,
    clock: systemClock,
    ...overrides,
  });
  sources.push(source);
  const signal = new AbortController().signal;
  return { source, lines, take: async () => (await source.next(signal)).id };
}

describe('createArchiveSource', () => {
  it('plays the entries in the order given, each once per pass, with their bytes, prompt and file', async () => {
    const { store, entries } = await archived(3);
    const { source, take } = sourceOf(store, entries);
    const ids = entries.map(archiveImageId);
    const seen = [];
    for (let i = 0; i < 7; i++) seen.push(await take());
    expect(seen).toEqual([...ids, ...ids, ids[0]]);
    const image = await source.next(new AbortController().signal);
    expect(image).toMatchObject({ source: 'archive', prompt: 'a foggy harbour at dawn', file: store.imagePath(entries[1]!) });
    expect(image.cacheKey).toBe(`archive|${entries[1]!.id}`);
    expect(source.status()).toEqual({ state: 'ok', details: { archive: 'wall-1', frames: 3, unusable: 0 } });
  });

  it('shuffles every pass anew, never showing a frame twice in a row across passes', async () => {
    const { store, entries } = await archived(4);
    let n = 0;
    const random = () => [0.9, 0.1, 0.5, 0.3, 0.7][n++ % 5]!;
    const { take } = sourceOf(store, entries, { order: 'shuffle', random });
    const seen: string[] = [];
    for (let i = 0; i < 16; i++) seen.push(await take());
    for (let pass = 0; pass < 4; pass++) expect(new Set(seen.slice(pass * 4, pass * 4 + 4)).size).toBe(4);
    for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  });

  it('skips a frame removed since the selection was taken, saying so once, and holds when none is left', async () => {
    const { store, entries } = await archived(2);
    const { source, take, lines } = sourceOf(store, entries);
    rmSync(store.imagePath(entries[0]!));
    expect(await take()).toBe(archiveImageId(entries[1]!));
    // The only frame left: nothing new, so next() waits (the canvas holds) until aborted.
    const stop = new AbortController();
    const waiting = source.next(stop.signal);
    stop.abort(new Error('step over'));
    await expect(waiting).rejects.toThrow('step over');
    expect(lines.filter((l) => String(l.msg).includes('was removed from the archive'))).toHaveLength(1);
    expect(source.status().details).toMatchObject({ frames: 2, unusable: 1 });
  });

  it('reports failed when no frame selected can be shown, and skips one the renderer refused', async () => {
    const { store, entries } = await archived(2);
    const { source, lines } = sourceOf(store, entries, { maxFileBytes: 10 });
    const stop = new AbortController();
    const waiting = source.next(stop.signal);
    await vi.waitFor(() => expect(source.status().state).toBe('failed'));
    expect(source.status()).toMatchObject({
      state: 'failed',
      code: 'EASEL_ERR_FOLDER_EMPTY',
      reason: expect.stringContaining('None of the 2'),
    });
    stop.abort(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
    expect(lines.filter((l) => String(l.msg).includes('over the limit of 10'))).toHaveLength(2);

    const fine = sourceOf(store, entries);
    const first = await fine.source.next(new AbortController().signal);
    fine.source.reject(first, new Error('Input buffer contains unsupported image format'));
    expect(await fine.take()).toBe(archiveImageId(entries[1]!));
    expect(fine.source.status().details).toMatchObject({ unusable: 1 });
  });
});
