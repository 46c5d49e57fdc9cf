import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putImage, solidPng } from '../support/images.js';
import { startMain, type MainProcess } from '../support/main-process.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * The owner is a real process of its own: a command sent to another node is carried out in it,
 * and once it is killed (-9) a command sent meanwhile waits for the node that takes the canvas
 * and is carried out there, instead of going nowhere.
 */
const TOKEN = 'cluster-commands-failover-token';
const asOperator = { authorization: `Bearer ${TOKEN}` };
const SLUG = 'wall';

const json = async (url: string, init: RequestInit = {}) => {
  const res = await fetch(url, { ...init, headers: asOperator });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('commands while the owner is killed', () => {
  let redis: TestRedis;
  let folder: ReturnType<typeof tempFolder>;
  let owner: MainProcess | undefined;
  const others: TestServer[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    putImage(folder.dir, 'a.png', await solidPng('#336699', 32, 32));
    putImage(folder.dir, 'b.png', await solidPng('#996633', 32, 32));
  });

  afterAll(async () => {
    if (owner && owner.child.exitCode === null && owner.child.signalCode === null) {
      owner.child.kill('SIGKILL');
      await owner.exited;
    }
    for (const n of others) await n.close();
    await redis?.stop();
    folder?.remove();
  });

  it('acts in the owner process, then on the node that takes the canvas after a kill -9', async () => {
    const env = {
      EASEL_REDIS_URL: redis.url,
      EASEL_LEASE_MS: '1500',
      EASEL_OPERATOR_TOKEN: TOKEN,
      EASEL_FOLDER: folder.dir,
      EASEL_WIDTH: '32',
      EASEL_HEIGHT: '32',
      EASEL_CANVASES: JSON.stringify([{ slug: SLUG }]),
    };
    owner = startMain(['--host', '127.0.0.1', '--port', '0'], { ...env, EASEL_NODE_ID: 'node-owner', EASEL_PLAYLISTS_DIR: folder.dir });
    const ownerAt = `http://127.0.0.1:${await owner.port}`;
    await until(async () => ((await json(`${ownerAt}/api/canvases/${SLUG}`)).body.lastFrame?.seq >= 2 ? true : undefined));
    for (const id of ['node-b', 'node-c']) others.push(await startTestServer({ ...env, EASEL_NODE_ID: id }));
    const [b, c] = others as [TestServer, TestServer];
    await until(async () => ((await json(b.http('/api/cluster'))).body.nodes?.length === 3 ? true : undefined));

    const paused = await json(b.http(`/api/canvases/${SLUG}/pause`), { method: 'POST' });
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe('paused');
    expect((await json(`${ownerAt}/api/canvases/${SLUG}`)).body.state).toBe('paused');
    expect((await json(c.http(`/api/canvases/${SLUG}/resume`), { method: 'POST' })).status).toBe(200);
    expect((await json(`${ownerAt}/api/canvases/${SLUG}`)).body.state).not.toBe('paused');

    owner.child.kill('SIGKILL');
    await owner.exited;
    const sentAt = Date.now();
    const during = await json(b.http(`/api/canvases/${SLUG}/pause`), { method: 'POST' });
    const tookMs = Date.now() - sentAt;
    expect(during.status).toBe(200);
    expect(during.body.state).toBe('paused');
    // Within the lease (1.5 s) and two renewals, well before the 10 s a silent owner gets.
    expect(tookMs).toBeLessThan(8000);
    const newOwner = others.find((n) => n.server.registry.get(SLUG)!.snapshot().state === 'paused');
    expect(newOwner).toBeDefined();
    // Its next heartbeat lists the canvas as its own.
    await until(async () => {
      const view = (await json(newOwner!.http('/api/cluster'))).body;
      return view.nodes.find((n: { self: boolean }) => n.self)?.canvases.includes(SLUG) ? true : undefined;
    });
    expect((await json(b.http('/api/cluster'))).body.commands).toMatchObject({ waited: 1, moving: 0, timedOut: 0 });
  });

  it('answers 503 with Retry-After when no node can take the canvas, and acts once one does', async () => {
    // A lease held by a node that is not there (and will not run out soon): nobody may take the canvas.
    const raw = new Redis(redis.url);
    const slug = 'stuck';
    try {
      await raw.multi().hset(`easel:lease:${slug}`, 'owner', 'node-ghost', 'epoch', '1').pexpire(`easel:lease:${slug}`, 60_000).exec();
      const node = await startTestServer({
        EASEL_REDIS_URL: redis.url,
        EASEL_LEASE_MS: '1500',
        EASEL_OPERATOR_TOKEN: TOKEN,
        EASEL_FOLDER: folder.dir,
        EASEL_WIDTH: '32',
        EASEL_HEIGHT: '32',
        EASEL_CANVASES: JSON.stringify([{ slug }]),
        EASEL_NODE_ID: 'node-d',
      });
      others.push(node);
      // Until it has connected, a command on a canvas produced elsewhere is 503 EASEL_ERR_REDIS_UNAVAILABLE.
      await until(async () => ((await json(node.http('/api/cluster'))).body.redis.state === 'up' ? true : undefined));
      const sentAt = Date.now();
      const res = await fetch(node.http(`/api/canvases/${slug}/pause`), { method: 'POST', headers: asOperator });
      const body = (await res.json()) as Record<string, unknown>;
      expect(res.status, JSON.stringify(body)).toBe(503);
      expect(res.headers.get('retry-after'), JSON.stringify(body)).toBe('3');
      expect(body).toMatchObject({ code: 'EASEL_ERR_CANVAS_MOVING', slug, title: 'Canvas moving to another node' });
      // It waited the lease and two renewals (2.5 s) for an owner first.
      expect(Date.now() - sentAt).toBeGreaterThanOrEqual(2400);
      expect((await json(node.http('/api/cluster'))).body.commands).toMatchObject({ waited: 1, moving: 1 });

      await raw.del(`easel:lease:${slug}`);
      await until(() => (node.server.registry.get(slug)!.started ? true : undefined));
      const paused = await json(node.http(`/api/canvases/${slug}/pause`), { method: 'POST' });
      expect(paused.status).toBe(200);
      expect(node.server.registry.get(slug)!.snapshot().state).toBe('paused');
    } finally {
      raw.disconnect();
    }
  });
});
