import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPlays } from '../support/archive-fixtures.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * Two nodes on one real redis-server, each with an archive folder of its own, as a venue would
 * configure every node alike: a frame is archived and logged once, by the node producing the
 * canvas, however many nodes show it.
 */
const SLUG = 'wall-kept';
const TOKEN = 'cluster-archive-token';

describe('the archive in a cluster', () => {
  let redis: TestRedis;
  let folder: ReturnType<typeof tempFolder>;
  const archives: Array<ReturnType<typeof tempFolder>> = [];
  const nodes: TestServer[] = [];
  const displays: DisplayClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    for (const [i, colour] of ['#123456', '#654321', '#abcdef'].entries()) putImage(folder.dir, `${i}.png`, await solidPng(colour, 48, 48));
    for (const id of ['keep-a', 'keep-b']) {
      const archive = tempFolder();
      archives.push(archive);
      nodes.push(
        await startTestServer({
          EASEL_NODE_ID: id,
          EASEL_OPERATOR_TOKEN: TOKEN,
          EASEL_FOLDER: folder.dir,
          EASEL_WIDTH: '48',
          EASEL_HEIGHT: '48',
          EASEL_REDIS_URL: redis.url,
          EASEL_LEASE_MS: '1500',
          EASEL_ARCHIVE_DIR: archive.dir,
          EASEL_ARCHIVE_MIN_FREE_MB: '0',
          EASEL_CANVASES: JSON.stringify([{ slug: SLUG, fps: 4, source: { type: 'folder' } }]),
        }),
      );
    }
  }, 60_000);

  afterAll(async () => {
    for (const d of displays) d.close();
    for (const n of nodes) await n.close();
    await redis?.stop();
    folder?.remove();
    for (const a of archives) a.remove();
  });

  it('keeps an upload and logs each frame once, on the node producing the canvas', async () => {
    const owner = await until(() => {
      const producing = nodes.filter((n) => n.server.registry.get(SLUG)?.started === true);
      return producing.length === 1 ? producing[0] : undefined;
    });
    const ownerIndex = nodes.indexOf(owner);
    const other = nodes[1 - ownerIndex]!;
    // A display on the node that does not produce the canvas: frames reach it through Redis.
    const display = new DisplayClient(other.ws(SLUG));
    displays.push(display);
    await display.opened;
    await until(() => (display.frames.length >= 4 ? true : undefined));

    // Sent to the other node: the command is carried out, and the image kept, by the owner.
    const image = await solidPng('#00ff00', 40, 30);
    const res = await fetch(other.http(`/api/canvases/${SLUG}/image?hold=1`), {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'image/png' },
      body: image,
    });
    expect(res.status).toBe(202);
    const { imageId } = (await res.json()) as { imageId: string };
    await until(() => (display.frames.some((f) => f.header.imageId === imageId) ? true : undefined));
    const kept = await until(() => {
      const entries = [...owner.server.archive!.store.select({ canvas: SLUG })];
      return entries.length === 1 ? entries[0] : undefined;
    });
    expect(kept).toMatchObject({ source: 'upload', width: 40, height: 30 });
    expect([...other.server.archive!.store.select({})]).toEqual([]);

    await until(() => (readPlays(archives[ownerIndex]!.dir).some((l) => l.archiveId === kept.id) ? true : undefined));
    const ownerLines = readPlays(archives[ownerIndex]!.dir).filter((l) => l.canvas === SLUG);
    const seqs = ownerLines.map((l) => l.seq);
    expect(seqs.length).toBeGreaterThanOrEqual(4);
    expect(new Set(seqs).size).toBe(seqs.length);
    // The other node showed the same frames to its display, and logged none of them.
    expect(readPlays(archives[1 - ownerIndex]!.dir)).toEqual([]);
  }, 60_000);
});
