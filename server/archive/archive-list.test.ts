import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ARCHIVE_T0,
  archiveDir,
  archiveStoreFor,
  frameFor,
  removeArchiveDirs,
  tinyPng,
  writeArchiveFiles,
} from '../../test/support/archive-fixtures.js';
import { isEaselError } from '../errors.js';
import type { ArchiveEntry, ArchiveQuery, ArchiveStore } from './archive-entry.js';

const N = 10_000;
const COLOURS = ['Red', 'amber', 'green', 'blue', 'violet'];
const THINGS = ['harbour', 'forest', 'city', 'desert', 'glacier', 'orchard', 'cathedral'];
const canvasOf = (i: number) => ['wall-1', 'wall-2', 'lobby'][i % 3]!;

let store: ArchiveStore;
let png: Buffer;

beforeAll(async () => {
  png = await tinyPng();
  const dir = archiveDir();
  // Three canvases make a frame in the same millisecond: ties are broken by id.
  const frames = Array.from({ length: N }, (_, i) =>
    frameFor(canvasOf(i), png, ARCHIVE_T0 + Math.floor(i / 3) * 250, { prompt: `${COLOURS[i % 5]} ${THINGS[i % 7]} at dusk`, seq: i }),
  );
  writeArchiveFiles(dir, frames);
  store = archiveStoreFor(dir).store;
  await store.open();
  const all = [...store.select({})];
  for (let i = 0; i < N; i += 97) await store.setStarred(all[i]!.id, true);
}, 120_000);

afterAll(async () => {
  await store.close();
  removeArchiveDirs();
});

const newestFirst = (a: ArchiveEntry, b: ArchiveEntry) => Date.parse(b.madeAt) - Date.parse(a.madeAt) || (a.id < b.id ? 1 : -1);

/** Follows `next` to the end, `limit` at a time. */
function pageAll(query: ArchiveQuery, limit: number): ArchiveEntry[] {
  const out: ArchiveEntry[] = [];
  let cursor: string | undefined;
  for (;;) {
    const got = store.list(query, limit, cursor);
    expect(got.items.length).toBeLessThanOrEqual(limit);
    out.push(...got.items);
    if (got.next === null) return out;
    expect(got.items).toHaveLength(limit);
    cursor = got.next;
  }
}

describe('listing a large archive', () => {
  it('pages 10,000 entries newest first, by madeAt then id, each once', () => {
    const all = pageAll({}, 200);
    expect(all).toHaveLength(N);
    expect(new Set(all.map((e) => e.id)).size).toBe(N);
    expect(all).toEqual([...all].sort(newestFirst));
    expect([...store.select({})]).toEqual(all);
    expect(store.list({}, 1).items[0]!.seq).toBe(N - 1);
  });

  it.each<[string, ArchiveQuery, (e: ArchiveEntry) => boolean]>([
    ['canvas', { canvas: 'wall-2' }, (e) => e.canvas === 'wall-2'],
    ['starred', { starred: true }, (e) => e.starred],
    ['unstarred', { starred: false }, (e) => !e.starred],
    ['text, every word, any case', { text: '  red HARBOUR ' }, (e) => /red/i.test(e.prompt!) && /harbour/.test(e.prompt!)],
    [
      'time range',
      { from: ARCHIVE_T0 + 60_000, to: ARCHIVE_T0 + 120_000 },
      (e) => Date.parse(e.madeAt) >= ARCHIVE_T0 + 60_000 && Date.parse(e.madeAt) < ARCHIVE_T0 + 120_000,
    ],
    [
      'all at once',
      { canvas: 'lobby', text: 'city', to: ARCHIVE_T0 + 500_000 },
      (e) => e.canvas === 'lobby' && e.prompt!.includes('city') && Date.parse(e.madeAt) < ARCHIVE_T0 + 500_000,
    ],
    ['text nothing has', { text: 'submarine' }, () => false],
  ])('filters by %s, across pages', (_what, query, keep) => {
    const expected = [...store.select({})].filter(keep);
    expect(pageAll(query, 37)).toEqual(expected);
    expect([...store.select(query)]).toEqual(expected);
    if (expected.length === 0) expect(store.list(query, 10)).toEqual({ items: [], next: null });
  });

  it('keeps a cursor stable while new frames are written', async () => {
    const query = { canvas: 'wall-1' };
    const before = [...store.select(query)];
    const got: ArchiveEntry[] = [];
    let backdated: ArchiveEntry | undefined;
    let cursor: string | undefined;
    let page = 0;
    do {
      const { items, next } = store.list(query, 100, cursor);
      got.push(...items);
      cursor = next ?? undefined;
      // A live frame, newer than everything: never in this listing.
      await store.write(frameFor('wall-1', png, ARCHIVE_T0 + N * 1000 + page, { seq: N + page }));
      // An upload dated in the middle, older than the pages read so far: seen once, in its place.
      if (page === 3) backdated = await store.write(frameFor('wall-1', png, ARCHIVE_T0 + 300_000 + 7, { source: 'upload' }));
      page++;
    } while (cursor !== undefined);
    expect(page).toBeGreaterThan(30);
    expect(got).toEqual([...before, backdated!].sort(newestFirst));
    expect(store.list(query, 1).items[0]!.seq).toBe(N + page - 1);
  });

  it('refuses a cursor it did not give out', () => {
    for (const bad of ['nonsense', '', Buffer.from('12:').toString('base64url'), 'x'.repeat(500)]) {
      let err: unknown;
      try {
        store.list({}, 10, bad);
      } catch (e) {
        err = e;
      }
      expect(isEaselError(err, 'EASEL_ERR_REQUEST_INVALID'), bad).toBe(true);
    }
  });
});
