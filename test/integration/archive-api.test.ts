import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ArchiveEntry } from '../../server/archive/archive-entry.js';
import { archiveDir, frameFor, removeArchiveDirs, tinyPng, writeArchiveFiles, readPlays } from '../support/archive-fixtures.js';
import { DisplayClient } from '../support/display-client.js';
import { meanColour, noisyJpeg, putImage, solidPng } from '../support/images.js';
import { rawRequest } from '../support/raw-http.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const TOKEN = 'archive-operator-token';
const auth = { authorization: `Bearer ${TOKEN}` };
const json = { ...auth, 'content-type': 'application/json' };
/** Local noon, 30 Nov 2026: 10,000 entries 15 s apart run into 2 Dec, so three local days hold some. */
const T0 = new Date(2026, 10, 30, 12).getTime();

let server: TestServer;
let dir: string;
let art: ReturnType<typeof tempFolder>;
/** Every entry laid down, newest first (the order the API answers in). */
let entries: ArchiveEntry[];
let photo: ArchiveEntry;
let red: ArchiveEntry;
/** Over the server's pixel limit (2,000,000 pixels, the limit 1,500,000). */
let huge: ArchiveEntry;
/** Bytes that are no image at all. */
let broken: ArchiveEntry;

const api = (p: string, init: RequestInit = {}) => fetch(server.http(p), init);
const getJson = async <T>(p: string, init: RequestInit = {}) => {
  const res = await api(p, init);
  return { status: res.status, type: res.headers.get('content-type'), body: (await res.json()) as T };
};
const ids = (list: ArchiveEntry[]) => list.map((e) => e.id);

beforeAll(async () => {
  dir = archiveDir();
  const colours = await Promise.all(['#336699', '#993366', '#669933', '#999999'].map((c) => tinyPng(c)));
  const frames = Array.from({ length: 10_000 }, (_, i) =>
    frameFor(i % 5 === 2 ? 'lobby' : 'wall-1', colours[i % 4]!, T0 + i * 15_000, {
      prompt: i % 7 === 0 ? 'A foggy Harbour at dawn' : 'a red boat at night',
      seq: i + 1,
      ...(i % 10 === 0 && { endpoint: 'gpu-1.venue.lan:50051' }),
    }),
  );
  const laid = writeArchiveFiles(dir, frames);
  photo = writeArchiveFiles(dir, [frameFor('wall-1', await noisyJpeg(1200, 900), T0 + 10_000 * 15_000)], 'image/jpeg')[0]!;
  red = writeArchiveFiles(dir, [frameFor('wall-1', await solidPng('#ff0000', 64, 48), T0 + 10_001 * 15_000, { source: 'upload' })])[0]!;
  huge = writeArchiveFiles(dir, [frameFor('lobby', await noisyJpeg(2000, 1000), T0 - 60_000)], 'image/jpeg')[0]!;
  broken = writeArchiveFiles(dir, [frameFor('lobby', Buffer.from('not an image at all'), T0 - 120_000)])[0]!;
  entries = [broken, huge, ...laid, photo, red].reverse();
  art = tempFolder();
  putImage(art.dir, 'blue.png', await solidPng('#0000ff', 64, 48));
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_ARCHIVE_DIR: dir,
    EASEL_FOLDER: art.dir,
    EASEL_RATE_LIMIT_BURST: '10000',
    EASEL_LIMIT_INPUT_PIXELS: '1500000',
    EASEL_CANVASES: JSON.stringify([
      { slug: 'stage', archive: false, source: { type: 'folder' } },
      { slug: 'foyer', source: { type: 'folder' } },
    ]),
  });
  // The store reads the folder (and builds its index) as the server starts.
  await vi.waitFor(async () => expect((await api('/api/archive?limit=1')).status).toBe(200), { timeout: 60_000, interval: 200 });
}, 120_000);

afterAll(async () => {
  await server?.close();
  art?.remove();
  removeArchiveDirs();
});

describe('GET /api/archive', () => {
  it('pages through all 10,002 entries newest first, each once', async () => {
    const first = await getJson<{ items: ArchiveEntry[]; next: string | null }>('/api/archive');
    expect(first.status).toBe(200);
    expect(first.body.items).toHaveLength(50);
    expect(ids(first.body.items)).toEqual(ids(entries.slice(0, 50)));
    const seen: string[] = [];
    let cursor: string | null = '';
    let pages = 0;
    while (cursor !== null) {
      const page: { items: ArchiveEntry[]; next: string | null } = (
        await getJson<{ items: ArchiveEntry[]; next: string | null }>(`/api/archive?limit=200${cursor ? `&cursor=${cursor}` : ''}`)
      ).body;
      seen.push(...ids(page.items));
      cursor = page.next;
      pages += 1;
    }
    expect(pages).toBe(Math.ceil(entries.length / 200));
    expect(seen).toEqual(ids(entries));
  });

  it('filters by canvas, prompt words, day and time, together', async () => {
    const lobby = entries.filter((e) => e.canvas === 'lobby');
    const got = await getJson<{ items: ArchiveEntry[] }>('/api/archive?canvas=lobby&limit=200');
    expect(ids(got.body.items)).toEqual(ids(lobby.slice(0, 200)));

    const harbour = entries.filter((e) => e.prompt?.toLowerCase().includes('foggy harbour'));
    const words = await getJson<{ items: ArchiveEntry[] }>('/api/archive?q=harbour%20FOGGY&limit=200');
    expect(ids(words.body.items)).toEqual(ids(harbour.slice(0, 200)));

    const dec1 = [new Date(2026, 11, 1).getTime(), new Date(2026, 11, 2).getTime()];
    const inDay = (e: ArchiveEntry) => Date.parse(e.madeAt) >= dec1[0]! && Date.parse(e.madeAt) < dec1[1]!;
    const day = await getJson<{ items: ArchiveEntry[] }>('/api/archive?day=2026-12-01&canvas=wall-1&limit=200');
    expect(ids(day.body.items)).toEqual(ids(entries.filter((e) => inDay(e) && e.canvas === 'wall-1').slice(0, 200)));

    const from = new Date(T0 + 100 * 15_000).toISOString();
    const to = new Date(T0 + 160 * 15_000).toISOString();
    const range = await getJson<{ items: ArchiveEntry[]; next: string | null }>(`/api/archive?from=${from}&to=${to}&limit=200`);
    expect(ids(range.body.items)).toEqual(ids(entries.filter((e) => e.madeAt >= from && e.madeAt < to)));
    expect(range.body.items).toHaveLength(60);
    expect(range.body.next).toBeNull();
  });

  it.each([
    ['limit=100000', 'limit'],
    ['limit=0', 'limit'],
    ['from=yesterday', 'from'],
    ['day=2026-13-01', 'day'],
    ['canvas=..%2Fetc', 'canvas'],
    ['starred=maybe', 'starred'],
    ['cursor=not-a-cursor', 'cursor'],
    [`q=${'x'.repeat(600)}`, 'q'],
    ['stared=true', 'stared'],
  ])('answers %s with a 400 problem naming %s', async (query, field) => {
    const res = await getJson<{ status: number; code: string; detail: string }>(`/api/archive?${query}`);
    expect(res.status).toBe(400);
    expect(res.type).toContain('application/problem+json');
    expect(res.body.detail).toMatch(new RegExp(`^(Invalid ")?${field}\\b`));
  });
});

describe('one entry', () => {
  it('answers its metadata, without the inference endpoint for readers without the token', async () => {
    const withEndpoint = entries.find((e) => e.endpoint !== undefined)!;
    const open = await getJson<ArchiveEntry>(`/api/archive/${withEndpoint.id}`);
    expect(open.status).toBe(200);
    expect(open.body).toMatchObject({
      id: withEndpoint.id,
      canvas: withEndpoint.canvas,
      prompt: withEndpoint.prompt,
      file: withEndpoint.file,
    });
    expect(open.body.endpoint).toBeUndefined();
    expect((await getJson<ArchiveEntry>(`/api/archive/${withEndpoint.id}`, { headers: auth })).body.endpoint).toBe('gpu-1.venue.lan:50051');
  });

  it('serves the original bytes with their type, cacheable for ever', async () => {
    const res = await api(`/api/archive/${photo.id}/image`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('image/jpeg');
    expect(res.headers.get('cache-control')).toContain('immutable');
    const etag = res.headers.get('etag')!;
    expect(Buffer.from(await res.arrayBuffer()).equals(readFileSync(path.join(dir, photo.file)))).toBe(true);
    const again = await api(`/api/archive/${photo.id}/image`, { headers: { 'if-none-match': etag } });
    expect(again.status).toBe(304);
  });

  it('makes a WebP thumbnail once, then serves it from the cache', async () => {
    const first = await api(`/api/archive/${photo.id}/image?w=320`);
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('image/webp');
    expect(first.headers.get('x-easel-thumbnail-cache')).toBe('miss');
    const meta = await sharp(Buffer.from(await first.arrayBuffer())).metadata();
    expect([meta.format, meta.width, meta.height]).toEqual(['webp', 320, 240]);
    const second = await api(`/api/archive/${photo.id}/image?w=320`);
    expect(second.headers.get('x-easel-thumbnail-cache')).toBe('hit');
    expect(existsSync(path.join(dir, '.thumbs', '320', `${photo.id}.webp`))).toBe(true);
    const metrics = await (await api('/metrics')).text();
    expect(Number(/^easel_archive_thumbnail_hits_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
    expect(Number(/^easel_archive_thumbnail_misses_total (\d+)/m.exec(metrics)?.[1])).toBeGreaterThanOrEqual(1);
  });

  it('refuses a thumbnail of an original over the pixel limit (413) or not an image (422), and still serves the original', async () => {
    const over = await getJson<{ code: string }>(`/api/archive/${huge.id}/image?w=160`);
    expect(over).toMatchObject({ status: 413, body: { code: 'EASEL_ERR_IMAGE_TOO_LARGE' } });
    const unreadable = await getJson<{ code: string }>(`/api/archive/${broken.id}/image?w=160`);
    expect(unreadable).toMatchObject({ status: 422, body: { code: 'EASEL_ERR_IMAGE_UNREADABLE' } });
    const original = await api(`/api/archive/${huge.id}/image`);
    expect(original.status).toBe(200);
    expect(Buffer.from(await original.arrayBuffer()).equals(readFileSync(path.join(dir, huge.file)))).toBe(true);
  });

  it.each(['w=99999', 'w=300', 'w=abc', 'w=', 'size=320'])('refuses ?%s with a 400 naming it', async (query) => {
    const res = await getJson<{ detail: string }>(`/api/archive/${photo.id}/image?${query}`);
    expect(res.status).toBe(400);
    expect(res.body.detail).toMatch(new RegExp(`^${query.split('=')[0]}: `));
  });

  it('answers 404 for an id it does not keep, and 400 for anything that is not an id', async () => {
    expect((await api('/api/archive/wall-1.20200101.000000000-00000000')).status).toBe(404);
    for (const bad of [
      '..%2F..%2Fetc%2Fpasswd',
      '..%2Findex.jsonl',
      'wall-1%2F2026-12-01%2Fx',
      'WALL.20261201.190512345-ab12cd34',
      'x'.repeat(300),
      '%E0%A4%A',
    ]) {
      for (const suffix of ['', '/image', '/star']) {
        const res = await getJson<{ detail: string; code: string }>(
          `/api/archive/${bad}${suffix}`,
          suffix === '/star' ? { method: 'POST', headers: json } : {},
        );
        expect(res.status, `${bad}${suffix}`).toBe(400);
        expect(res.body.code).toBe('EASEL_ERR_REQUEST_INVALID');
      }
    }
    // Unnormalised dot segments, as a client that does not clean paths sends them.
    const raw = await rawRequest(server.port, 'GET /api/archive/../../../etc/passwd HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    expect(raw.status).not.toBe(200);
    expect(raw.body).not.toContain('root:');
  });
});

describe('changes', () => {
  const target = () => entries[3]!;

  it('need the operator token: 401 without, 403 with a wrong one', async () => {
    for (const [method, suffix] of [
      ['POST', '/star'],
      ['DELETE', '/star'],
      ['DELETE', ''],
      ['POST', '/show'],
    ] as const) {
      const url = `/api/archive/${target().id}${suffix}`;
      const body = suffix === '/show' ? JSON.stringify({ canvas: 'stage' }) : undefined;
      const none = await api(url, { method, ...(body && { body, headers: { 'content-type': 'application/json' } }) });
      expect(none.status, `${method} ${suffix}`).toBe(401);
      const wrong = await api(url, { method, body, headers: { authorization: 'Bearer nope', 'content-type': 'application/json' } });
      expect(wrong.status, `${method} ${suffix}`).toBe(403);
    }
    expect((await getJson<ArchiveEntry>(`/api/archive/${target().id}`)).body.starred).toBe(false);
  });

  it('refuse a body over the limit on a route that takes none', async () => {
    const res = await api(`/api/archive/${target().id}/star`, { method: 'POST', headers: json, body: `{"x":"${'y'.repeat(200_000)}"}` });
    expect(res.status).toBe(413);
    expect((await getJson<ArchiveEntry>(`/api/archive/${target().id}`)).body.starred).toBe(false);
  });

  it('stars and unstars an entry; starred=true lists starred ones only', async () => {
    const starred = await getJson<ArchiveEntry>(`/api/archive/${target().id}/star`, { method: 'POST', headers: auth });
    expect(starred).toMatchObject({ status: 200, body: { id: target().id, starred: true } });
    const list = await getJson<{ items: ArchiveEntry[] }>('/api/archive?starred=true');
    expect(ids(list.body.items)).toEqual([target().id]);
    const meta = JSON.parse(readFileSync(path.join(dir, target().file.replace(/\.png$/, '.json')), 'utf8')) as ArchiveEntry;
    expect(meta.starred).toBe(true);
    const unstarred = await getJson<ArchiveEntry>(`/api/archive/${target().id}/star`, { method: 'DELETE', headers: auth });
    expect(unstarred.body.starred).toBe(false);
    expect((await getJson<{ items: ArchiveEntry[] }>('/api/archive?starred=true')).body.items).toEqual([]);
  });

  it('deletes an entry, its files and its thumbnails', async () => {
    const victim = entries[5]!;
    expect((await api(`/api/archive/${victim.id}/image?w=160`)).status).toBe(200);
    const res = await getJson<{ removed: string }>(`/api/archive/${victim.id}`, { method: 'DELETE', headers: auth });
    expect(res).toMatchObject({ status: 200, body: { removed: victim.id } });
    expect((await api(`/api/archive/${victim.id}`)).status).toBe(404);
    expect(existsSync(path.join(dir, victim.file))).toBe(false);
    expect(existsSync(path.join(dir, '.thumbs', '160', `${victim.id}.webp`))).toBe(false);
    expect((await api(`/api/archive/${victim.id}`, { method: 'DELETE', headers: auth })).status).toBe(404);
  });
});

describe('POST /api/archive/:id/show', () => {
  it('shows the original on a canvas as a still, to its displays', async () => {
    const display = new DisplayClient(server.ws('stage'));
    await display.opened;
    const res = await getJson<{ imageId: string; canvas: string; archiveId: string }>(`/api/archive/${red.id}/show`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ canvas: 'stage', hold: '10s' }),
    });
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ canvas: 'stage', archiveId: red.id });
    await vi.waitFor(() => expect(display.frames.some((f) => f.header.imageId === res.body.imageId)).toBe(true), { timeout: 10_000 });
    const frame = display.frames.find((f) => f.header.imageId === res.body.imageId)!;
    expect(frame.header).toMatchObject({ source: 'upload', width: 64, height: 48 });
    const [r, g, b] = await meanColour(frame.image);
    expect(r).toBeGreaterThan(200);
    expect(g + b).toBeLessThan(60);
    display.close();
  });

  it('is not archived again: the play log names the entry it came from', async () => {
    const display = new DisplayClient(server.ws('foyer'));
    await display.opened;
    const res = await getJson<{ imageId: string }>(`/api/archive/${red.id}/show`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ canvas: 'foyer', hold: 0 }),
    });
    expect(res.status).toBe(202);
    const played = await until(() => {
      return readPlays(dir).find((l) => l.imageId === res.body.imageId);
    }, 15_000);
    expect(played).toMatchObject({ canvas: 'foyer', source: 'upload', archiveId: red.id });
    expect((await getJson<{ items: ArchiveEntry[] }>('/api/archive?canvas=foyer')).body.items).toEqual([]);
    display.close();
  });

  it('refuses an original over the pixel limit, as an upload is refused', async () => {
    const res = await getJson<{ code: string }>(`/api/archive/${huge.id}/show`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ canvas: 'stage' }),
    });
    expect(res).toMatchObject({ status: 413, body: { code: 'EASEL_ERR_IMAGE_TOO_LARGE' } });
  });

  it('names the canvas meant for an unknown one', async () => {
    const res = await getJson<{ code: string; detail: string; hint: string }>(`/api/archive/${red.id}/show`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify({ canvas: 'stag' }),
    });
    expect(res.status).toBe(404);
    expect(`${res.body.detail} ${res.body.hint}`).toContain('stage');
  });

  it.each([
    [{}, 'canvas'],
    [{ canvas: 'Stage!' }, 'canvas'],
    [{ canvas: 42 }, 'canvas'],
    [{ canvas: 'stage', hold: 'forever' }, 'hold'],
    [{ canvas: 'stage', hold: '25h' }, 'hold'],
    [{ canvas: 'stage', hold: -1 }, 'hold'],
    [{ canvas: 'stage', colour: 'red' }, 'colour'],
  ])('refuses %j naming %s', async (body, field) => {
    const res = await getJson<{ field: string }>(`/api/archive/${red.id}/show`, {
      method: 'POST',
      headers: json,
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(400);
    expect(res.body.field).toBe(field);
  });

  it('refuses a body that is not JSON, and one that is far too large', async () => {
    const notJson = await api(`/api/archive/${red.id}/show`, { method: 'POST', headers: json, body: '{canvas' });
    expect(notJson.status).toBe(400);
    const huge = await api(`/api/archive/${red.id}/show`, { method: 'POST', headers: json, body: `{"canvas":"${'s'.repeat(2_000_000)}"}` });
    expect(huge.status).toBe(413);
    const form = await api(`/api/archive/${red.id}/show`, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'text/plain' },
      body: 'canvas=stage',
    });
    expect(form.status).toBe(415);
  });
});
