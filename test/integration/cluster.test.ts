import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putImage, solidPng } from '../support/images.js';
import { freePort, startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const TOKEN = 'cluster-test-operator-token';
const asOperator = { authorization: `Bearer ${TOKEN}` };

const json = async (url: string, headers: Record<string, string> = {}) => {
  const res = await fetch(url, { headers });
  return { status: res.status, body: (await res.json()) as Record<string, any> };
};

describe('without Redis configured', () => {
  it('runs alone and says so on /api/cluster, with /readyz as before', async () => {
    const server = await startTestServer();
    try {
      expect(await json(server.http('/api/cluster'))).toEqual({ status: 200, body: { mode: 'alone', nodes: [] } });
      const ready = await json(server.http('/readyz'));
      expect(ready.body.cluster).toBeUndefined();
      expect(server.logs.filter((l) => l.component === 'cluster')).toEqual([]);
    } finally {
      await server.close();
    }
  });
});

describe('cluster mode with Redis not there at start', () => {
  it('starts anyway, says once what is wrong, and answers /readyz degraded', async () => {
    const port = await freePort();
    const server = await startTestServer({
      EASEL_REDIS_URL: `redis://127.0.0.1:${port}`,
      EASEL_CANVASES: JSON.stringify([{ slug: 'wall' }]),
    });
    try {
      const degraded = await until(async () => {
        const r = await json(server.http('/readyz'));
        return r.status === 503 ? r : undefined;
      });
      expect(degraded.body).toMatchObject({ status: 'degraded', cluster: { redis: 'down' } });
      expect(degraded.body.problems.map((p: { code: string }) => p.code)).toEqual(['EASEL_ERR_REDIS_UNAVAILABLE']);
      // Reconnection keeps failing; the log says it once.
      await until(async () => (server.logs.filter((l) => l.component === 'cluster').length >= 1 ? true : undefined));
      await until(async () => ((await json(server.http('/api/cluster'))).body.redis?.state === 'down' ? true : undefined));
      expect(server.logs.filter((l) => String(l.msg).includes('unreachable'))).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

// Each test moves a cluster through several states (an outage, a node leaving); on a loaded 2-core
// box that can take longer than the unit tests' 20 s, so these wait for states for up to a minute.
describe('cluster mode on a real redis-server', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let a: TestServer;
  let b: TestServer;

  beforeAll(async () => {
    redis = await startRedis();
    const env = (id: string) => ({
      EASEL_REDIS_URL: redis.url,
      EASEL_NODE_ID: id,
      EASEL_OPERATOR_TOKEN: TOKEN,
      EASEL_LEASE_MS: '1500',
      EASEL_ADVERTISE_ADDRESS: `${id}.venue.lan:8000`,
    });
    a = await startTestServer(env('node-a'));
    b = await startTestServer(env('node-b'));
  });

  afterAll(async () => {
    await a?.close();
    await b?.close();
    await redis?.stop();
  });

  it('lists every node on /api/cluster, addresses for the operator only', async () => {
    const view = await until(async () => {
      const r = await json(a.http('/api/cluster'), asOperator);
      return r.body.nodes?.length === 2 ? r : undefined;
    });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ mode: 'cluster', nodeId: 'node-a', redis: { state: 'up', url: redis.url.replace(/\/?$/, '') } });
    expect(view.body.nodes.map((n: { id: string; address: string; self: boolean }) => [n.id, n.address, n.self])).toEqual([
      ['node-a', 'node-a.venue.lan:8000', true],
      ['node-b', 'node-b.venue.lan:8000', false],
    ]);
    for (const n of view.body.nodes) {
      expect(n).toMatchObject({ canvases: [], displays: 0, clock: 'ok' });
      expect(typeof n.clockOffsetMs).toBe('number');
      expect(typeof n.heartbeatAt).toBe('number');
    }
    const stranger = await fetch(a.http('/api/cluster'));
    const seen = (await stranger.json()) as { nodes: Array<{ address: unknown }>; redis: Record<string, unknown> };
    expect(seen.nodes).toHaveLength(2);
    for (const n of seen.nodes) expect(n).not.toHaveProperty('address');
    expect(seen.redis.url).toBeUndefined();
  });

  it('answers /readyz degraded with one plain log line while Redis is down, and heals when it is back', async () => {
    await until(async () => ((await json(a.http('/readyz'))).status === 200 ? true : undefined));
    // On a loaded box the first connection may have timed out once at start (an outage of its
    // own, logged): only the lines from this outage on count.
    const outageLines = () => a.logs.filter((l) => l.component === 'cluster' && String(l.msg).includes('unreachable'));
    const before = outageLines().length;
    await redis.kill();
    const degraded = await until(async () => {
      const r = await json(a.http('/readyz'));
      return r.status === 503 ? r : undefined;
    });
    expect(degraded.body.status).toBe('degraded');
    expect(degraded.body.cluster).toEqual({ redis: 'down' });
    expect(degraded.body.problems).toEqual([expect.objectContaining({ code: 'EASEL_ERR_REDIS_UNAVAILABLE' })]);
    const down = await json(a.http('/api/cluster'), asOperator);
    expect(down.body).toMatchObject({ mode: 'cluster', redis: { state: 'down' }, nodes: [] });

    await redis.restart();
    await until(async () => ((await json(a.http('/readyz'))).status === 200 ? true : undefined));
    // Redis came back empty: the heartbeats put both nodes back.
    await until(async () => ((await json(b.http('/api/cluster'), asOperator)).body.nodes?.length === 2 ? true : undefined));
    const lines = outageLines().slice(before);
    expect(lines).toHaveLength(1);
    expect(lines[0]!.msg).toMatch(/start Redis or fix cluster\.redisUrl/);
    expect(a.logs.some((l) => String(l.msg).includes('reachable again'))).toBe(true);
  });
});

describe('declared canvases placed by lease on a real redis-server', { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let folder: ReturnType<typeof tempFolder>;
  const nodes = new Map<string, TestServer>();

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    putImage(folder.dir, 'a.png', await solidPng('#336699', 32, 32));
    putImage(folder.dir, 'b.png', await solidPng('#996633', 32, 32));
    for (const id of ['node-a', 'node-b']) {
      nodes.set(
        id,
        await startTestServer({
          EASEL_REDIS_URL: redis.url,
          EASEL_NODE_ID: id,
          EASEL_OPERATOR_TOKEN: TOKEN,
          EASEL_LEASE_MS: '1500',
          EASEL_FOLDER: folder.dir,
          EASEL_WIDTH: '32',
          EASEL_HEIGHT: '32',
          EASEL_CANVASES: JSON.stringify([{ slug: 'wall-1' }, { slug: 'wall-2' }]),
        }),
      );
    }
  });

  afterAll(async () => {
    for (const n of nodes.values()) await n.close();
    await redis?.stop();
    folder?.remove();
  });

  /** The canvases each node says it produces, once every declared one has exactly one producer and each node its share. */
  const placed = () =>
    until(async () => {
      const live = [...nodes.values()];
      const views = await Promise.all(live.map((n) => json(n.http('/api/cluster'), asOperator)));
      const byNode = new Map<string, string[]>(views[0]!.body.nodes.map((n: { id: string; canvases: string[] }) => [n.id, n.canvases]));
      const all = [...byNode.values()].flat().sort();
      const share = Math.ceil(2 / live.length);
      const balanced = [...byNode.values()].every((c) => c.length <= share);
      return byNode.size === live.length && all.join() === 'wall-1,wall-2' && balanced ? byNode : undefined;
    });

  const seqOf = async (node: TestServer, slug: string): Promise<number> =>
    (await json(node.http(`/api/canvases/${slug}`))).body.lastFrame?.seq ?? 0;

  it('has each declared canvas produced by one node only, the share of each node being one', async () => {
    const byNode = await placed();
    expect([...byNode.values()].map((c) => c.length)).toEqual([1, 1]);
    const owner = nodes.get([...byNode].find(([, c]) => c.includes('wall-1'))![0])!;
    const other = [...nodes.values()].find((n) => n !== owner)!;
    const counters = async (n: TestServer) => (await json(n.http('/api/canvases/wall-1'))).body.counters;
    const before = await counters(other);
    const ownerBefore = await counters(owner);
    const start = await seqOf(owner, 'wall-1');
    await until(async () => ((await seqOf(owner, 'wall-1')) >= start + 3 ? true : undefined));
    // Over the window the owner published three frames; the other node produced none of wall-1:
    // every frame it showed was relayed from the owner (it may have produced some before the
    // canvases were spread, while it was alone).
    const after = await counters(other);
    expect(after.published - before.published).toBe(after.relayed - before.relayed);
    expect((await counters(owner)).relayed).toBe(ownerBefore.relayed);
    for (const n of nodes.values()) expect((await json(n.http('/readyz'))).status).toBe(200);
  });

  it('hands a stopped node’s canvas to the node left, which carries on producing it', async () => {
    const byNode = await placed();
    const [ownerId] = [...byNode].find(([, c]) => c.includes('wall-1'))!;
    await nodes.get(ownerId)!.close();
    nodes.delete(ownerId);
    const left = [...nodes.values()][0]!;
    const byNodeAfter = await placed();
    expect([...byNodeAfter.values()].flat().sort()).toEqual(['wall-1', 'wall-2']);
    const start = await seqOf(left, 'wall-1');
    await until(async () => ((await seqOf(left, 'wall-1')) >= start + 2 ? true : undefined));
  });
});
