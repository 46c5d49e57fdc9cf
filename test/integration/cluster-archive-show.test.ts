import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ArchiveEntry } from '../../server/archive/archive-entry.js';
import { frameFor, writeArchiveFiles, readPlays } from '../support/archive-fixtures.js';
import { DisplayClient } from '../support/display-client.js';
import { meanColour, putImage, solidPng } from '../support/images.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * "Show again" sent to a node that does not produce the canvas: the node reads the entry from
 * its own archive and the upload command carries the image to the owner, which shows it, keeps
 * no copy and logs the entry it came from.
 */
const SLUG = 'wall-again';
const TOKEN = 'cluster-archive-show-token';

describe('show again in a cluster', () => {
  let redis: TestRedis;
  let folder: ReturnType<typeof tempFolder>;
  const archives: Array<ReturnType<typeof tempFolder>> = [];
  const nodes: TestServer[] = [];
  let entry: ArchiveEntry;

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    for (const [i, colour] of ['#0000ff', '#0000aa', '#000066'].entries()) putImage(folder.dir, `${i}.png`, await solidPng(colour, 48, 48));
    const red = await solidPng('#ff0000', 48, 48);
    for (const id of ['again-a', 'again-b']) {
      const archive = tempFolder();
      archives.push(archive);
      // The same entry in both archives: whichever node does not produce the canvas has it.
      [entry] = writeArchiveFiles(archive.dir, [frameFor('wall-1', red, Date.UTC(2026, 11, 1, 18))]) as [ArchiveEntry];
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
    for (const n of nodes) await n.close();
    await redis?.stop();
    folder?.remove();
    for (const a of archives) a.remove();
  });

  it('is carried out by the owner, which keeps no copy and logs the entry', async () => {
    const owner = await until(() => {
      const producing = nodes.filter((n) => n.server.registry.get(SLUG)?.started === true);
      return producing.length === 1 ? producing[0] : undefined;
    });
    const ownerIndex = nodes.indexOf(owner);
    const other = nodes[1 - ownerIndex]!;
    const display = new DisplayClient(owner.ws(SLUG));
    await display.opened;
    await until(() => (display.frames.length >= 2 ? true : undefined));

    const res = await fetch(other.http(`/api/archive/${entry.id}/show`), {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ canvas: SLUG, hold: '5s' }),
    });
    expect(res.status).toBe(202);
    const { imageId } = (await res.json()) as { imageId: string };
    const frame = await until(() => display.frames.find((f) => f.header.imageId === imageId));
    expect((await meanColour(frame.image))[0]).toBeGreaterThan(200);
    const played = await until(() => readPlays(archives[ownerIndex]!.dir).find((l) => l.imageId === imageId));
    expect(played.archiveId).toBe(entry.id);
    expect([...owner.server.archive!.store.select({ canvas: SLUG })]).toEqual([]);
    display.close();
  }, 60_000);
});
