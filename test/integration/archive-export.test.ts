import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ArchiveEntry } from '../../server/archive/archive-entry.js';
import { archiveDir, frameFor, removeArchiveDirs, tinyPng, writeArchiveFiles } from '../support/archive-fixtures.js';
import { noisyJpeg } from '../support/images.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';
import { readZip } from '../support/zip-reader.js';

/** Local noon, 30 Nov 2026; entries 15 s apart. */
const T0 = new Date(2026, 10, 30, 12).getTime();
const COUNT = 10_050;

const servers: TestServer[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.close()));
  removeArchiveDirs();
}, 60_000);

async function serve(env: Record<string, string>): Promise<TestServer> {
  const server = await startTestServer(env);
  servers.push(server);
  const token = env.EASEL_DISPLAY_TOKEN ? `&token=${env.EASEL_DISPLAY_TOKEN}` : '';
  // The store reads the folder (and builds its index) as the server starts.
  if (env.EASEL_ARCHIVE_DIR)
    await until(async () => ((await fetch(server.http(`/api/archive?limit=1${token}`))).status === 200 ? true : undefined), 60_000, 200);
  return server;
}

async function download(server: TestServer, query: string) {
  const res = await fetch(server.http(`/api/archive/export?${query}`));
  const body = Buffer.from(await res.arrayBuffer());
  return { res, body };
}

describe('GET /api/archive/export', () => {
  let server: TestServer;
  let dir: string;
  /** Newest first. */
  let entries: ArchiveEntry[];

  beforeAll(async () => {
    dir = archiveDir();
    const colours = await Promise.all(['#336699', '#993366', '#669933'].map((c) => tinyPng(c)));
    const frames = Array.from({ length: COUNT }, (_, i) =>
      frameFor(i % 4 === 1 ? 'lobby' : 'wall-1', colours[i % 3]!, T0 + i * 15_000, {
        seq: i + 1,
        ...(i % 10 === 1 && { endpoint: 'gpu-1.venue.lan:50051' }),
      }),
    );
    entries = writeArchiveFiles(dir, frames).reverse();
    server = await serve({ EASEL_ARCHIVE_DIR: dir });
  }, 120_000);

  it('streams a zip of the chosen originals and their metadata, which match the archive', async () => {
    const { res, body } = await download(server, 'canvas=lobby&day=2026-12-01');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="easel-archive-lobby-\d{8}-\d{6}\.zip"$/);
    expect(Number(res.headers.get('content-length'))).toBe(body.length);
    const [start, end] = [new Date(2026, 11, 1).getTime(), new Date(2026, 11, 2).getTime()];
    const chosen = entries.filter((e) => e.canvas === 'lobby' && Date.parse(e.madeAt) >= start && Date.parse(e.madeAt) < end);
    expect(chosen.length).toBeGreaterThan(1000);
    expect(res.headers.get('x-easel-export-entries')).toBe(String(chosen.length));
    const files = await readZip(body);
    expect([...files.keys()].sort()).toEqual([...chosen.map((e) => e.file), 'metadata.jsonl'].sort());
    for (const e of chosen) expect(files.get(e.file)!.equals(readFileSync(path.join(dir, e.file))), e.file).toBe(true);
    const lines = files
      .get('metadata.jsonl')!
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ArchiveEntry);
    expect(lines.map((l) => l.id)).toEqual(chosen.map((e) => e.id));
    // Without an operator token set, this loopback server shows readers everything, endpoint included.
    expect(lines).toEqual(chosen);
    expect(lines.some((l) => l.endpoint !== undefined)).toBe(true);
  }, 60_000);

  it('stops at 10,000 entries and names the cursor for the rest', async () => {
    const first = await download(server, '');
    expect(first.res.headers.get('x-easel-export-entries')).toBe('10000');
    const next = first.res.headers.get('x-easel-export-next');
    expect(next).toBeTruthy();
    const firstFiles = await readZip(first.body);
    expect(firstFiles.size).toBe(10_001);
    const rest = await download(server, `cursor=${encodeURIComponent(next!)}`);
    expect(rest.res.headers.get('x-easel-export-next')).toBeNull();
    const restFiles = await readZip(rest.body);
    const names = [...firstFiles.keys(), ...restFiles.keys()].filter((n) => n !== 'metadata.jsonl');
    expect(names.sort()).toEqual(entries.map((e) => e.file).sort());
  }, 180_000);

  it.each([
    ['limit=5', 'limit'],
    ['from=soon', 'from'],
    ['day=2026-12-32', 'day'],
    ['canvas=%2E%2E', 'canvas'],
    ['cursor=AAAA', 'cursor'],
    [`q=${'x'.repeat(600)}`, 'q'],
  ])('answers %s with a 400 problem naming %s', async (query, field) => {
    const res = await fetch(server.http(`/api/archive/export?${query}`));
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(((await res.json()) as { field: string }).field).toBe(field);
  });

  it('goes on after a client leaves halfway', async () => {
    const controller = new AbortController();
    const res = await fetch(server.http('/api/archive/export'), { signal: controller.signal });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.read().catch(() => undefined);
    await until(async () => {
      const metrics = await (await fetch(server.http('/metrics'))).text();
      return Number(/^easel_archive_exports_failed_total (\d+)/m.exec(metrics)?.[1]) >= 1 ? true : undefined;
    });
    const again = await download(server, 'canvas=lobby&from=2026-12-01T00:00&to=2026-12-01T01:00');
    expect(again.res.status).toBe(200);
    expect((await readZip(again.body)).size).toBe(Number(again.res.headers.get('x-easel-export-entries')) + 1);
  });
});

describe('slow clients', () => {
  let server: TestServer;
  let big: Buffer;
  beforeAll(async () => {
    const dir = archiveDir();
    big = await noisyJpeg(1400, 1000);
    writeArchiveFiles(
      dir,
      Array.from({ length: 40 }, (_, i) => frameFor('wall-1', big, T0 + i * 1000)),
      'image/jpeg',
    );
    server = await serve({ EASEL_ARCHIVE_DIR: dir });
  }, 60_000);
  /** A client that asks for the whole export and reads nothing until told. */
  const stalled = () => {
    const socket = net.connect(server.port, '127.0.0.1');
    socket.pause();
    socket.write('GET /api/archive/export HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    return socket;
  };

  it('holds the export back instead of filling memory, then gets it whole', async () => {
    const total = 40 * big.length;
    expect(total).toBeGreaterThan(40_000_000);
    const socket = stalled();
    const handed = async () =>
      Number(/^easel_archive_export_bytes_total (\d+)/m.exec(await (await fetch(server.http('/metrics'))).text())?.[1]);
    // What uWS was handed levels off at what the sockets' buffers hold. (uWS closes a response
    // whose client takes nothing for 10 s, so the client reads again as soon as it has.)
    let before = -1;
    const level = await until(
      async () => {
        const now = await handed();
        const steady = now > 0 && now === before;
        before = now;
        return steady ? now : undefined;
      },
      8_000,
      250,
    );
    expect(level).toBeLessThan(total / 2);
    const chunks: Buffer[] = [];
    let received = 0;
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      received += c.length;
    });
    socket.resume();
    const body = await vi.waitFor(
      () => {
        const head = Buffer.concat(chunks.slice(0, 4)).toString('latin1');
        const split = head.indexOf('\r\n\r\n');
        const length = Number(/content-length: (\d+)/i.exec(head.slice(0, split))?.[1]);
        if (split < 0 || received < split + 4 + length) throw new Error(`${received} bytes so far`);
        return Buffer.concat(chunks).subarray(split + 4, split + 4 + length);
      },
      { timeout: 60_000, interval: 200 },
    );
    socket.destroy();
    const files = await readZip(body);
    expect(files.size).toBe(41);
    expect([...files.values()].filter((f) => f.equals(big))).toHaveLength(40);
  }, 120_000);

  it('runs two exports at once; a third waits its turn (429)', async () => {
    // Each is running once its first bytes arrive; then it reads nothing more.
    const sockets = await Promise.all(
      [0, 1].map(
        () =>
          new Promise<net.Socket>((resolve) => {
            const socket = net.connect(server.port, '127.0.0.1');
            socket.write('GET /api/archive/export HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
            socket.once('data', () => resolve(socket.pause()));
          }),
      ),
    );
    const third = await until(
      async () => {
        const res = await fetch(server.http('/api/archive/export'), { method: 'HEAD' });
        return res.status === 429 ? res : undefined;
      },
      10_000,
      100,
    );
    expect(third.headers.get('retry-after')).toBe('10');
    for (const s of sockets) s.destroy();
    const after = await until(async () => {
      const res = await fetch(server.http('/api/archive/export'), { method: 'HEAD' });
      return res.status === 200 ? res : undefined;
    });
    expect(Number(after.headers.get('content-length'))).toBeGreaterThan(40 * big.length);
  });

  it('answers HEAD with the length and type, without sending the zip', async () => {
    const res = await fetch(server.http('/api/archive/export'), { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/zip');
    expect(Number(res.headers.get('content-length'))).toBeGreaterThan(40 * big.length);
    expect((await res.arrayBuffer()).byteLength).toBe(0);
  });
});

describe('reads with a display token', () => {
  let server: TestServer;
  let entry: ArchiveEntry;
  beforeAll(async () => {
    const dir = archiveDir();
    [entry] = writeArchiveFiles(dir, [frameFor('wall-1', await tinyPng(), T0, { endpoint: 'gpu-1.venue.lan:50051' })]) as [ArchiveEntry];
    server = await serve({ EASEL_ARCHIVE_DIR: dir, EASEL_DISPLAY_TOKEN: 'display-secret', EASEL_OPERATOR_TOKEN: 'operator-secret' });
  }, 60_000);

  it('need it (or the operator token) on every reading route', async () => {
    for (const route of [
      '/api/archive',
      `/api/archive/${entry.id}`,
      `/api/archive/${entry.id}/image`,
      `/api/archive/${entry.id}/image?w=160`,
      '/api/archive/export',
    ]) {
      const join = route.includes('?') ? '&' : '?';
      expect((await fetch(server.http(route))).status, route).toBe(401);
      expect((await fetch(server.http(`${route}${join}token=wrong`))).status, route).toBe(403);
      const shown = await fetch(server.http(`${route}${join}token=display-secret`));
      expect(shown.status, route).toBe(200);
      if (route.includes('/image')) expect(shown.headers.get('cache-control')).toContain('private');
      const operator = await fetch(server.http(route), { headers: { authorization: 'Bearer operator-secret' } });
      expect(operator.status, route).toBe(200);
    }
  });

  it('do not let the display token change anything', async () => {
    for (const [method, suffix] of [
      ['POST', '/star'],
      ['DELETE', ''],
    ]) {
      const res = await fetch(server.http(`/api/archive/${entry.id}${suffix}`), {
        method,
        headers: { authorization: 'Bearer display-secret' },
      });
      expect(res.status).toBe(401);
      expect(((await res.json()) as { detail: string }).detail).toContain('operator token');
    }
    expect((await fetch(server.http(`/api/archive/${entry.id}?token=display-secret`))).status).toBe(200);
  });

  it('leave the inference endpoint out for displays, in the list and the export', async () => {
    const listed = (await (await fetch(server.http('/api/archive?token=display-secret'))).json()) as { items: ArchiveEntry[] };
    expect(listed.items[0]).toMatchObject({ id: entry.id });
    expect(listed.items[0]!.endpoint).toBeUndefined();
    const zip = await readZip(Buffer.from(await (await fetch(server.http('/api/archive/export?token=display-secret'))).arrayBuffer()));
    const { endpoint: _hidden, ...shown } = entry;
    expect(JSON.parse(zip.get('metadata.jsonl')!.toString('utf8'))).toEqual(shown);
  });
});

describe('with the archive off', () => {
  it('every archive route says so, naming the setting', async () => {
    const server = await serve({ EASEL_ARCHIVE_DIR: '' });
    for (const route of ['/api/archive', '/api/archive/wall-1.20261201.190512345-ab12cd34', '/api/archive/export']) {
      const res = await fetch(server.http(route));
      expect(res.status, route).toBe(404);
      expect(((await res.json()) as { hint: string }).hint).toContain('archive.dir');
    }
  });
});
