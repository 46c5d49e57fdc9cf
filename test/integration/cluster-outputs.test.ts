import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startOscDump } from '../support/osc-dump.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * Two nodes on one real redis-server, both sending OSC to one Debian oscdump and webhooks to one
 * receiver, as a venue would configure every node alike: each frame and each display is told
 * once, by the node where it happened, not once per node.
 */
const SLUG = 'wall-out';

describe('OSC out and webhooks in a cluster', () => {
  let redis: TestRedis;
  let dump: Awaited<ReturnType<typeof startOscDump>>;
  let receiver: http.Server;
  let folder: ReturnType<typeof tempFolder>;
  let lines: string[] = [];
  const hooks: Array<{ event: string; canvas?: string; data: Record<string, unknown> }> = [];
  const nodes: TestServer[] = [];
  const displays: DisplayClient[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    dump = await startOscDump();
    lines = dump.lines;
    const oscPort = dump.port;
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => {
        body += c.toString();
      });
      req.on('end', () => {
        hooks.push(JSON.parse(body));
        res.end('ok');
      });
    });
    await new Promise<void>((done) => receiver.listen(0, '127.0.0.1', done));
    const hookPort = (receiver.address() as AddressInfo).port;
    folder = tempFolder();
    for (const [i, colour] of ['#123456', '#654321', '#abcdef'].entries()) putImage(folder.dir, `${i}.png`, await solidPng(colour, 48, 48));
    const env = {
      EASEL_FOLDER: folder.dir,
      EASEL_WIDTH: '48',
      EASEL_HEIGHT: '48',
      EASEL_REDIS_URL: redis.url,
      EASEL_LEASE_MS: '1500',
      EASEL_OSC_TARGETS: `127.0.0.1:${oscPort}`,
      EASEL_WEBHOOKS: JSON.stringify([
        { url: `http://127.0.0.1:${hookPort}/hook`, events: ['display.connected'], secret: 'a-secret-of-some-length' },
      ]),
      EASEL_CANVASES: JSON.stringify([{ slug: SLUG, fps: 4, source: { type: 'folder' } }]),
    };
    for (const id of ['out-a', 'out-b']) nodes.push(await startTestServer({ ...env, EASEL_NODE_ID: id }));
  });

  afterAll(async () => {
    for (const d of displays) d.close();
    for (const n of nodes) await n.close();
    dump?.stop();
    await new Promise((done) => receiver?.close(done));
    await redis?.stop();
    folder?.remove();
  });

  it('tells each frame once, from the node producing the canvas, and each display once, from its node', async () => {
    const owners = async () => {
      const view = (await (await fetch(nodes[0]!.http('/api/cluster'))).json()) as { nodes: Array<{ id: string; canvases: string[] }> };
      const owning = view.nodes.filter((n) => n.canvases.includes(SLUG));
      return view.nodes.length === 2 && owning.length === 1 ? owning[0]!.id : undefined;
    };
    const ownerId = await until(owners);
    const selfId = async (n: TestServer) =>
      ((await (await fetch(n.http('/api/cluster'))).json()) as { nodes: Array<{ id: string; self: boolean }> }).nodes.find((x) => x.self)
        ?.id;
    const ids = await Promise.all(nodes.map(selfId));
    const other = nodes[ids.findIndex((id) => id !== ownerId)]!;

    // A display on the node that does not produce the canvas: frames reach it through Redis.
    const display = new DisplayClient(other.ws(SLUG));
    displays.push(display);
    await display.opened;
    await until(() => (display.frames.length >= 8 ? true : undefined));

    const frameSeqs = () =>
      lines
        .filter((l) => l.includes(`/easel/${SLUG}/frame `))
        .map((l) => Number(/ isss (\d+) /.exec(l)?.[1]))
        .filter((n) => Number.isFinite(n));
    await until(() => (frameSeqs().length >= 8 ? true : undefined));
    const seqs = frameSeqs();
    // Two nodes show every frame; a target hears each seq once.
    expect(new Set(seqs).size).toBe(seqs.length);

    await until(() => (hooks.some((h) => h.event === 'display.connected') ? true : undefined));
    // Long enough for a second node's copy to arrive, were one sent.
    await new Promise((r) => setTimeout(r, 1500));
    expect(hooks.filter((h) => h.event === 'display.connected' && h.canvas === SLUG)).toHaveLength(1);
  });
});
