import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { clusterNodeEnv, startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * Shared canvas state that is not Easel's (corrupt, oversized, foreign) in a real redis-server:
 * each is logged and ignored, and the node goes on: the canvas starts as declared, the API
 * answers with what this node knows.
 */
const TOKEN = 'cluster-state-test-token';
const asOperator = { authorization: `Bearer ${TOKEN}` };

const json = async (url: string) => (await (await fetch(url, { headers: asOperator })).json()) as Record<string, any>;

describe('shared state in Redis that cannot be used', () => {
  let redis: TestRedis;
  let client: Redis;
  let folder: ReturnType<typeof tempFolder>;
  const nodes: TestServer[] = [];
  const env = () => clusterNodeEnv(redis, folder.dir, ['wall', 'lobby'], TOKEN);

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    folder = tempFolder();
    putImage(folder.dir, 'a.png', await solidPng('#336699', 32, 32));
    putImage(folder.dir, 'b.png', await solidPng('#996633', 32, 32));
  });

  afterAll(async () => {
    for (const n of nodes) await n.close();
    client?.disconnect();
    await redis?.stop();
    folder?.remove();
  });

  it('starts a canvas as declared when its shared state is corrupt, oversized or points at nothing', async () => {
    await client.set('easel:state:wall', '{"version":1,"node":');
    await client.set('easel:state:lobby', JSON.stringify({ version: 1, pad: 'x'.repeat(70_000) }));
    const node = await startTestServer({ ...env(), EASEL_NODE_ID: 'node-a' });
    nodes.push(node);
    const display = new DisplayClient(node.ws('wall'));
    await display.opened;
    await until(() => (display.frames.length >= 2 ? true : undefined));
    display.close();
    for (const slug of ['wall', 'lobby']) {
      const canvas = await until(async () => {
        const c = await json(node.http(`/api/canvases/${slug}`));
        return c.lastFrame ? c : undefined;
      });
      expect(canvas).toMatchObject({ producedBy: 'node-a', source: { details: { path: folder.dir } } });
    }
    const ignored = node.logs.filter((l) => String(l.msg).startsWith('Shared state of'));
    expect(ignored.map((l) => [l.slug, l.problem])).toEqual(
      expect.arrayContaining([
        ['wall', 'state: is not JSON'],
        ['lobby', expect.stringMatching(/^is \d+ bytes, over 65536$/)],
      ]),
    );
    // Its own writes replaced them: Easel's state, written under node-a's lease.
    await until(async () => {
      const text = await client.get('easel:state:wall');
      return text?.includes('"node":"node-a"') ? true : undefined;
    });
  });

  it("hands a canvas to a node that joins as it was, and answers with this node's own view when the owner's is unreadable", async () => {
    const owner = nodes[0]!;
    // Paused, the owner writes its view only when something changes: what is set below stays.
    for (const slug of ['wall', 'lobby']) {
      expect((await fetch(owner.http(`/api/canvases/${slug}/pause`), { method: 'POST', headers: asOperator })).status).toBe(200);
      await until(async () => ((await client.get(`easel:state:${slug}`))?.includes('"paused":true') ? true : undefined));
    }
    const other = await startTestServer({ ...env(), EASEL_NODE_ID: 'node-b' });
    nodes.push(other);
    // node-a keeps both canvases until node-b is listed; then it hands one back, and node-b takes it paused.
    const [kept, moved] = await until(async () => {
      const cluster = await json(owner.http('/api/cluster'));
      const a = (cluster.nodes as Array<{ id: string; canvases: string[] }>).find((n) => n.id === 'node-a');
      const b = (cluster.nodes as Array<{ id: string; canvases: string[] }>).find((n) => n.id === 'node-b');
      return a?.canvases.length === 1 && b?.canvases.length === 1 ? [a.canvases[0]!, b.canvases[0]!] : undefined;
    });
    for (const node of [owner, other])
      await until(async () => {
        const c = await json(node.http(`/api/canvases/${moved}`));
        return c.producedBy === 'node-b' && c.state === 'paused' ? true : undefined;
      });
    expect(other.logs.find((l) => l.msg === `Canvas "${moved}" taken over from node node-a with its shared state`)).toMatchObject({
      paused: true,
    });
    await until(async () => ((await json(other.http(`/api/canvases/${kept}`))).state === 'paused' ? true : undefined));
    await new Promise((r) => setTimeout(r, 500));
    for (const bad of ['not json', JSON.stringify({ slug: 'elsewhere', state: 'paused' }), 'x'.repeat(70_000)]) {
      await client.set(`easel:view:${kept}`, bad);
      const res = await fetch(other.http(`/api/canvases/${kept}`), { headers: asOperator });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ slug: kept, producedBy: null });
    }
    await client.del(`easel:view:${kept}`);
    await client.lpush(`easel:view:${kept}`, 'a list');
    expect((await json(other.http('/api/canvases'))).canvases.find((c: { slug: string }) => c.slug === kept)).toMatchObject({
      producedBy: null,
    });
    // One line per minute for all of them, not one per request.
    expect(other.logs.filter((l) => String(l.msg).startsWith("Owner's view of"))).toHaveLength(1);
  });
});

describe("a shared archive selection this node's archive cannot play", { timeout: 60_000 }, () => {
  let redis: TestRedis;
  let client: Redis;
  let folder: ReturnType<typeof tempFolder>;
  let archive: ReturnType<typeof tempFolder>;
  let node: TestServer | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    client = new Redis(redis.url);
    folder = tempFolder();
    archive = tempFolder();
    putImage(folder.dir, 'a.png', await solidPng('#336699', 32, 32));
  });

  afterAll(async () => {
    await node?.close();
    client?.disconnect();
    await redis?.stop();
    folder?.remove();
    archive?.remove();
  });

  it('starts the canvas on its declared source with one line, instead of failing the takeover', async () => {
    // Each node keeps its own archive: the last owner's selection may match nothing here.
    const selection = { canvas: 'wall-9', starred: true };
    await client.set(
      'easel:state:wall',
      JSON.stringify({
        version: 1,
        node: 'node-gone',
        epoch: 3,
        savedAt: Date.now() - 5000,
        canvas: { source: { type: 'archive', selection, order: 'name' } },
        seq: 41,
        presentAt: null,
      }),
    );
    node = await startTestServer({
      ...clusterNodeEnv(redis, folder.dir, ['wall'], TOKEN),
      EASEL_ARCHIVE_DIR: archive.dir,
      EASEL_ARCHIVE_MIN_FREE_MB: '0',
      EASEL_NODE_ID: 'node-a',
    });
    const display = new DisplayClient(node.ws('wall'));
    await display.opened;
    await until(() => (display.frames.length >= 1 ? true : undefined));
    display.close();
    expect(display.frames.every((f) => f.header.source === 'folder')).toBe(true);
    // Numbering goes on from the last owner's: the takeover went through.
    expect(display.frames[0]!.header.seq).toBeGreaterThan(41);
    const lines = node.logs.filter((l) => String(l.msg).startsWith('Shared source of "wall" not restored'));
    expect(lines).toHaveLength(1);
    expect(String(lines[0]!.msg)).toContain('No archived frames match');
    const canvas = await json(node.http('/api/canvases/wall'));
    expect(canvas).toMatchObject({ producedBy: 'node-a', source: { kind: 'folder', details: { path: folder.dir } } });
  });
});
