import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisplayClient, refusedUpgrade } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * In a cluster every canvas is produced by one node under a lease, so it must be declared on
 * every node: a display naming a canvas nobody declared is refused (with what to do), where a
 * server alone would make one up for it (createCanvasesOnConnect, on by default).
 */
describe('canvases in a cluster', () => {
  let redis: TestRedis;
  let node: TestServer;
  let folder: ReturnType<typeof tempFolder>;

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    putImage(folder.dir, 'a.png', await solidPng('#204060', 32, 32));
    node = await startTestServer({
      EASEL_FOLDER: folder.dir,
      EASEL_REDIS_URL: redis.url,
      EASEL_LEASE_MS: '1500',
      EASEL_CANVASES: JSON.stringify([{ slug: 'declared-one', source: { type: 'folder' } }]),
    });
  });

  afterAll(async () => {
    await node?.close();
    await redis?.stop();
    folder?.remove();
  });

  it('lets displays join declared canvases only, and says how to add one', async () => {
    const refused = await refusedUpgrade(node.ws('made-up-wall'));
    expect(refused.status).toBe(404);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'EASEL_ERR_NOT_FOUND', hint: expect.stringContaining('every node') });
    expect(node.server.registry.get('made-up-wall')).toBeUndefined();
    expect(node.logs.some((l) => String(l.msg).includes('declared canvases only'))).toBe(true);

    const display = new DisplayClient(node.ws('declared-one'));
    await display.opened;
    await until(() => (display.frames.length >= 1 ? true : undefined));
    display.close();
  });
});
