import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRelayMessage } from '../../server/cluster/frame-relay.js';
import { createRedisRelayBus } from '../../server/cluster/relay.js';
import { DisplayClient, type ReceivedFrame } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * Three real nodes on one real redis-server, one declared canvas produced by whichever node
 * holds its lease, displays on every node: the frames the owner shows reach them all through
 * Redis, with the same seq, imageId and presentAt.
 */
const TOKEN = 'cluster-relay-test-token';
const asOperator = { authorization: `Bearer ${TOKEN}` };
const SLUG = 'wall-1';

const json = async (url: string, headers: Record<string, string> = asOperator) =>
  (await (await fetch(url, { headers })).json()) as Record<string, any>;

const rendersOf = async (node: TestServer): Promise<number> => {
  const text = await (await fetch(node.http('/metrics'), { headers: asOperator })).text();
  return Number(/^easel_render_seconds_count(?:\{[^}]*\})? (\d+)/m.exec(text)?.[1] ?? Number.NaN);
};

describe('frames relayed across nodes through Redis', () => {
  let redis: TestRedis;
  let folder: ReturnType<typeof tempFolder>;
  const nodes = new Map<string, TestServer>();
  let owner: TestServer;
  let others: TestServer[];
  const displays: DisplayClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    const colours = ['#336699', '#996633', '#339966', '#663399', '#999933', '#cc3333'];
    for (const [i, c] of colours.entries()) putImage(folder.dir, `${i}.png`, await solidPng(c, 64, 64));
    for (const id of ['node-a', 'node-b', 'node-c']) {
      nodes.set(
        id,
        await startTestServer({
          EASEL_REDIS_URL: redis.url,
          EASEL_NODE_ID: id,
          EASEL_OPERATOR_TOKEN: TOKEN,
          EASEL_LEASE_MS: '1500',
          EASEL_FOLDER: folder.dir,
          EASEL_WIDTH: '64',
          EASEL_HEIGHT: '64',
          EASEL_CANVASES: JSON.stringify([{ slug: SLUG }]),
        }),
      );
    }
    const ownerId = await until(async () => {
      const view = await json(nodes.get('node-a')!.http('/api/cluster'));
      const owning = (view.nodes ?? []).filter((n: { canvases: string[] }) => n.canvases.includes(SLUG));
      return view.nodes?.length === 3 && owning.length === 1 ? (owning[0].id as string) : undefined;
    });
    owner = nodes.get(ownerId)!;
    others = [...nodes.values()].filter((n) => n !== owner);
  });

  afterAll(async () => {
    for (const d of displays) d.close();
    for (const n of nodes.values()) await n.close();
    await redis?.stop();
    folder?.remove();
  });

  const watch = async (node: TestServer, query = '') => {
    const d = new DisplayClient(node.ws(`${SLUG}${query}`));
    displays.push(d);
    await d.opened;
    return d;
  };

  it('gives displays on every node the same imageId and presentAt for each seq', async () => {
    const ownerRelay = async () => (await json(owner.http('/api/cluster'))).relay;
    const ownerBefore = await ownerRelay();
    const onOwner = await watch(owner);
    const onOthers = await Promise.all(others.map((n) => watch(n)));
    const all = [onOwner, ...onOthers];
    await until(() => (all.every((d) => d.frames.length >= 8) ? true : undefined));
    const bySeq = (d: DisplayClient) => new Map(d.frames.map((f) => [f.header.seq, f.header] as const));
    const seen = all.map(bySeq);
    const common = [...seen[0]!.keys()].filter((seq) => seen.every((m) => m.has(seq)));
    expect(common.length).toBeGreaterThanOrEqual(5);
    for (const seq of common) {
      const headers = seen.map((m) => m.get(seq)!);
      expect(new Set(headers.map((h) => h.imageId)).size, `seq ${seq}`).toBe(1);
      expect(new Set(headers.map((h) => h.presentAt)).size, `seq ${seq}`).toBe(1);
      expect(headers[0]!.presentAt).toBeTypeOf('number');
    }
    for (const d of all) {
      const seqs = d.frames.map((f) => f.header.seq);
      expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      expect(new Set(seqs).size).toBe(seqs.length);
    }
    // The others showed what they were sent; the owner produced it, relayed nothing in.
    for (const n of others) {
      const snap = await json(n.http(`/api/canvases/${SLUG}`));
      expect(snap.counters.relayed).toBeGreaterThanOrEqual(8);
      expect(snap.counters.published).toBe(snap.counters.relayed);
    }
    expect((await json(owner.http(`/api/canvases/${SLUG}`))).counters.relayed).toBe(0);
    // The owner does not listen to the channel of the canvas it produces: Redis sends it nothing back.
    const ownerAfter = await ownerRelay();
    expect(ownerAfter.published - ownerBefore.published).toBeGreaterThanOrEqual(5);
    expect(ownerAfter.received).toBe(ownerBefore.received);
  });

  it('gives a display joining a node that does not produce the canvas the latest frame at once', async () => {
    const node = others[0]!;
    // The owner paused: no frame comes after this one, so a joiner that gets it got it at once.
    const post = (path: string) => fetch(owner.http(path), { method: 'POST', headers: asOperator });
    expect((await post(`/api/canvases/${SLUG}/pause`)).status).toBe(200);
    try {
      const last = (await json(owner.http(`/api/canvases/${SLUG}`))).lastFrame as { seq: number; imageId: string };
      await until(async () => ((await json(node.http(`/api/canvases/${SLUG}`))).lastFrame.seq === last.seq ? true : undefined));
      const late = await watch(node);
      const first = await until<ReceivedFrame>(() => late.frames[0]);
      expect(first.header).toMatchObject({ seq: last.seq, imageId: last.imageId });
    } finally {
      expect((await post(`/api/canvases/${SLUG}/resume`)).status).toBe(200);
    }
  });

  it('has the owner encode the renditions other nodes’ displays want, so they encode none', async () => {
    const node = others[1]!;
    const jpeg = await watch(node, '?accept=jpeg');
    await until(() => (jpeg.frames.length >= 2 ? true : undefined));
    expect(jpeg.frames.every((f) => f.header.mime === 'image/jpeg')).toBe(true);
    // Until the owner reads the wants (one heartbeat), this node makes the JPEG itself; then never again.
    const steady = await until(async () => {
      const renders = await rendersOf(node);
      const from = jpeg.frames.length;
      await until(() => (jpeg.frames.length >= from + 4 ? true : undefined));
      return (await rendersOf(node)) === renders ? renders : undefined;
    });
    expect(Number.isFinite(steady)).toBe(true);
    const frames = jpeg.frames.length;
    await until(() => (jpeg.frames.length >= frames + 4 ? true : undefined));
    expect(await rendersOf(node)).toBe(steady);
    expect(jpeg.frames.at(-1)!.header.mime).toBe('image/jpeg');
  });

  it('refuses a frame of a stale epoch injected into Redis: counted on every node, shown on none', async () => {
    const watchers = displays.slice(0, 3);
    const image = await solidPng('#ff00ff', 64, 64);
    const client = new Redis(redis.url);
    try {
      const message = encodeRelayMessage({
        node: 'intruder',
        slug: SLUG,
        epoch: 1,
        seq: 1_000_000_000,
        slotTime: Date.now(),
        presentAt: Date.now() + 300,
        madeAt: new Date().toISOString(),
        imageId: 'stale-injected',
        source: 'folder',
        prompt: undefined,
        renditions: [{ key: 'webp:64x64:inside', encoded: { data: image, format: 'webp', mime: 'image/webp', width: 64, height: 64 } }],
      });
      // Through Easel's own fenced publish, Redis itself refuses it: epoch 1 is not the live lease.
      const bus = createRedisRelayBus(client);
      expect(await bus.publish(SLUG, message, 1, 1_000_000_000)).toBe(false);
      const seqNow = (await json(owner.http(`/api/canvases/${SLUG}`))).lastFrame.seq as number;
      expect(await bus.lastSeq(SLUG)).toBeGreaterThanOrEqual(seqNow - 1);
      await bus.close();
      // A plain PUBLISH (as from a node that skips the check) reaches the nodes, which refuse it.
      await client.publish(`easel:frames:${SLUG}`, message);
      await client.publish(`easel:frames:${SLUG}`, Buffer.from('not a frame at all'));
    } finally {
      client.disconnect();
    }
    for (const n of others) {
      const relay = await until(async () => {
        const r = (await json(n.http('/api/cluster'))).relay;
        return r.refused.stale >= 1 && r.refused.malformed >= 1 ? r : undefined;
      });
      expect(relay.refused.stale).toBe(1);
      expect(n.logs.filter((l) => l.msg === 'Relayed frame refused (stale)')).toHaveLength(1);
      const metrics = await (await fetch(n.http('/metrics'), { headers: asOperator })).text();
      expect(metrics).toMatch(/^easel_relay_frames_received_total\{result="stale"\} 1$/m);
      expect(metrics).toMatch(/^easel_relay_frames_received_total\{result="shown"\} [1-9]\d*$/m);
    }
    // The owner reads nothing on the channel of a canvas it produces (its own frames come back there too).
    expect((await json(owner.http('/api/cluster'))).relay.refused).toMatchObject({ stale: 0, malformed: 0 });
    // Frames go on after it, upward, and the injected one reached no screen.
    const counts = watchers.map((d) => d.frames.length);
    await until(() => (watchers.every((d, i) => d.frames.length >= counts[i]! + 2) ? true : undefined));
    for (const d of watchers) {
      expect(d.frames.some((f) => f.header.imageId === 'stale-injected' || f.header.seq >= 1_000_000_000)).toBe(false);
    }
    const relayOut = (await json(owner.http('/api/cluster'))).relay;
    expect(relayOut.published).toBeGreaterThan(10);
    expect(relayOut.publishFailed).toBe(0);
    expect(relayOut.publishFenced).toBe(0);
  });
});
