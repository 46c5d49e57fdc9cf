import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisplayClient, type ReceivedFrame } from '../support/display-client.js';
import { meanColour, putImage, solidPng } from '../support/images.js';
import { startMain, type MainProcess } from '../support/main-process.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { tempFolder } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * Three real node processes on one real redis-server, one declared canvas, displays (ws, protocol
 * v2) on every node. The owner is killed with SIGKILL twice in a row; each time a surviving node
 * takes the canvas over from the state the dead one kept in Redis, and the displays on the
 * survivors keep their last frame until the new owner's frames come, numbered on upward.
 */
const TOKEN = 'cluster-failover-test-token';
const asOperator = { authorization: `Bearer ${TOKEN}` };
const SLUG = 'wall';
const LEASE_MS = 1500;
/** The stated bound (README, Cluster): a lease, a renewal interval, and slack for a busy 2-core box. */
const GAP_BOUND_MS = LEASE_MS + LEASE_MS / 3 + 3500;

interface Node {
  id: string;
  process: MainProcess;
  base: string;
  display: DisplayClient;
  closed: boolean;
}

const get = async (node: Node, pathname: string) => {
  const res = await fetch(`${node.base}${pathname}`, { headers: asOperator });
  return (await res.json()) as Record<string, any>;
};
const send = async (node: Node, method: string, pathname: string, body?: unknown, type = 'application/json') => {
  const res = await fetch(`${node.base}${pathname}`, {
    method,
    headers: { ...asOperator, ...(body !== undefined && { 'content-type': type }) },
    ...(body !== undefined && { body: Buffer.isBuffer(body) ? body : JSON.stringify(body) }),
  });
  expect(res.status, `${method} ${pathname}: ${await res.clone().text()}`).toBeLessThan(300);
  return (await res.json()) as Record<string, any>;
};

/** The node producing the canvas, as the cluster lists it (a single one, among those still alive). */
const ownerAmong = async (alive: Node[]): Promise<Node | undefined> => {
  const view = await get(alive[0]!, '/api/cluster');
  const listed = (view.nodes ?? []) as Array<{ id: string; canvases: string[] }>;
  const owning = listed.filter((n) => n.canvases.includes(SLUG));
  if (listed.length !== alive.length || owning.length !== 1) return undefined;
  return alive.find((n) => n.id === owning[0]!.id);
};

/** What a display saw around a kill at `killedAt` (performance.now()). */
function across(frames: ReceivedFrame[], killedAt: number) {
  const before = frames.filter((f) => f.at < killedAt);
  const after = frames.filter((f) => f.at >= killedAt);
  const gaps = frames.slice(1).map((f, i) => ({ ms: f.at - frames[i]!.at, at: f.at }));
  const gapMs = Math.max(0, ...gaps.filter((g) => g.at >= killedAt).map((g) => g.ms));
  return { before, after, gapMs };
}

const red = async (f: ReceivedFrame) => {
  const [r, , b] = await meanColour(f.image);
  return r > 150 && b < 100;
};

describe('failover: a node killed with SIGKILL, its canvas taken over from the shared state', () => {
  let redis: TestRedis;
  let folder: ReturnType<typeof tempFolder>;
  const nodes: Node[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    const blue = path.join(folder.dir, 'blue');
    const reds = path.join(folder.dir, 'red');
    const greens = path.join(folder.dir, 'green');
    const playlists = path.join(folder.dir, 'playlists');
    for (const dir of [blue, reds, greens, playlists]) mkdirSync(dir);
    for (const [i, c] of ['#223399', '#2244aa', '#3355bb'].entries()) putImage(blue, `${i}.png`, await solidPng(c, 64, 64));
    for (const [i, c] of ['#cc2222', '#dd3333', '#ee4444'].entries()) putImage(reds, `${i}.png`, await solidPng(c, 64, 64));
    for (const [i, c] of ['#22aa22', '#33bb33'].entries()) putImage(greens, `${i}.png`, await solidPng(c, 64, 64));
    writeFileSync(
      path.join(playlists, 'reds.yaml'),
      `loop: true\nsteps:\n  - folder: ${JSON.stringify(reds)}\n    duration: 10m\n  - folder: ${JSON.stringify(blue)}\n    duration: 10m\n`,
    );
    const env = (id: string) => ({
      EASEL_REDIS_URL: redis.url,
      EASEL_NODE_ID: id,
      EASEL_OPERATOR_TOKEN: TOKEN,
      EASEL_LEASE_MS: String(LEASE_MS),
      EASEL_FOLDER: blue,
      EASEL_WIDTH: '64',
      EASEL_HEIGHT: '64',
      EASEL_CANVASES: JSON.stringify([{ slug: SLUG }]),
      EASEL_PLAYLISTS_DIR: playlists,
    });
    const start = async (id: string) => {
      const process = startMain(['--host', '127.0.0.1', '--port', '0'], env(id));
      const base = `http://127.0.0.1:${await process.port}`;
      const display = new DisplayClient(`${base.replace('http', 'ws')}/ws/${SLUG}`);
      await display.opened;
      const node: Node = { id, process, base, display, closed: false };
      void display.closed.then(() => (node.closed = true));
      nodes.push(node);
      return node;
    };
    // node-a starts alone, so it is the first owner; the others join once it produces.
    const a = await start('node-a');
    await until(() => (a.display.frames.length >= 2 ? true : undefined));
    await Promise.all([start('node-b'), start('node-c')]);
    expect((await until(() => ownerAmong(nodes)))?.id).toBe('node-a');
  }, 90_000);

  afterAll(async () => {
    for (const n of nodes) {
      n.display.close();
      if (n.process.child.exitCode === null && n.process.child.signalCode === null) {
        n.process.child.kill('SIGTERM');
        await n.process.exited;
      }
    }
    await redis?.stop();
    folder?.remove();
  });

  const kill = async (node: Node) => {
    const killedAt = performance.now();
    node.process.child.kill('SIGKILL');
    await node.process.exited;
    return killedAt;
  };

  it('resumes the playlist at its step and keeps displays on the survivors showing, seq and presentAt going on upward', async () => {
    const owner = nodes[0]!;
    await send(owner, 'POST', `/api/canvases/${SLUG}/playlist`, { name: 'reds' });
    const survivors = nodes.slice(1);
    // Red frames reach every node: the playlist's first step runs on the owner.
    for (const n of survivors) await until(async () => ((await red(n.display.frames.at(-1)!)) ? true : undefined));
    // A node that does not produce the canvas answers the API with the owner's view.
    const seenElsewhere = await until(async () => {
      const c = await get(survivors[0]!, `/api/canvases/${SLUG}`);
      return c.playlist?.playlist === 'reds' ? c : undefined;
    });
    // Holding for a slot, as a canvas does while its new source renders, is showing too.
    expect(seenElsewhere).toMatchObject({
      producedBy: 'node-a',
      state: expect.stringMatching(/^(streaming|holding)$/),
      playlist: { stepIndex: 0 },
    });
    expect(seenElsewhere.source.details.path).toContain(`${path.sep}red`);
    const listed = await get(survivors[1]!, '/api/canvases');
    expect(listed.canvases.find((c: { slug: string }) => c.slug === SLUG)).toMatchObject({
      producedBy: 'node-a',
      playlist: { playlist: 'reds' },
    });
    // Past a state write (at most a second behind the frames) before the kill.
    await new Promise((r) => setTimeout(r, 1500));

    const killedAt = await kill(owner);
    const next = await until(() => ownerAmong(survivors));
    for (const n of survivors) await until(() => (n.display.frames.filter((f) => f.at > killedAt).length >= 4 ? true : undefined));
    for (const n of survivors) {
      const { before, after, gapMs } = across(n.display.frames, killedAt);
      expect(n.closed, `${n.id} display closed`).toBe(false);
      expect(before.length).toBeGreaterThan(0);
      expect(gapMs, `${n.id}: longest wait for a frame after the kill`).toBeLessThanOrEqual(GAP_BOUND_MS);
      // Never a blank frame, never a step back.
      for (const f of n.display.frames) expect(f.image.length).toBeGreaterThan(0);
      const seqs = n.display.frames.map((f) => f.header.seq);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
      const presents = n.display.frames.map((f) => f.header.presentAt!);
      for (let i = 1; i < presents.length; i++) expect(presents[i]).toBeGreaterThanOrEqual(presents[i - 1]!);
      // The new owner goes on with the playlist's step: red frames, no blue one from the configured folder.
      for (const f of after) expect(await red(f), `${n.id} seq ${f.header.seq}`).toBe(true);
    }
    const resumed = await get(next, `/api/canvases/${SLUG}`);
    expect(resumed).toMatchObject({ producedBy: next.id, playlist: { playlist: 'reds', stepIndex: 0 } });
    expect(resumed.source.details.path).toContain(`${path.sep}red`);
    const taken = next.process.stdout
      .map((l) => JSON.parse(l) as { msg?: string; from?: string })
      .find((l) => l.msg?.includes('taken over'));
    expect(taken).toMatchObject({ from: 'node-a' });
    // The wait is counted where the screens are: each survivor saw the canvas change hands once.
    for (const n of survivors) {
      const { ownerChanges } = await get(n, '/api/cluster');
      expect(ownerChanges[SLUG], n.id).toMatchObject({ count: 1, last: { node: next.id } });
      expect(ownerChanges[SLUG].maxMs, n.id).toBeGreaterThan(250);
      expect(ownerChanges[SLUG].maxMs, n.id).toBeLessThanOrEqual(GAP_BOUND_MS + 1000);
      const metrics = await (await fetch(`${n.base}/metrics`)).text();
      expect(metrics).toContain(`easel_cluster_owner_changes_total{canvas="${SLUG}"} 1`);
    }
  });

  it('resumes a pause and a held still on the last node after its owner is killed too', async () => {
    const alive = nodes.filter((n) => n.process.child.exitCode === null && n.process.child.signalCode === null);
    const owner = (await until(() => ownerAmong(alive)))!;
    const last = alive.find((n) => n !== owner)!;
    await send(owner, 'DELETE', `/api/canvases/${SLUG}/playlist`);
    await send(owner, 'PUT', `/api/canvases/${SLUG}/source`, { type: 'folder', path: path.join(folder.dir, 'green') });
    await send(owner, 'POST', `/api/canvases/${SLUG}/pause`);
    const still = await solidPng('#ffcc00', 64, 64);
    const { imageId } = await send(owner, 'POST', `/api/canvases/${SLUG}/image?hold=0`, still, 'image/png');
    await until(() => (last.display.frames.at(-1)?.header.imageId === imageId ? true : undefined));
    await until(async () => {
      const c = await get(last, `/api/canvases/${SLUG}`);
      return c.state === 'paused' && c.producedBy === owner.id && c.holding !== null ? true : undefined;
    });
    const shownBefore = last.display.frames.at(-1)!;

    const killedAt = await kill(owner);
    // Paused: the one frame the new owner shows is the still again, with a later seq and presentAt.
    const again = await until(() => last.display.frames.find((f) => f.at > killedAt));
    expect(again.header.imageId).toBe(imageId);
    expect(again.header.seq).toBeGreaterThan(shownBefore.header.seq);
    expect(again.header.presentAt!).toBeGreaterThanOrEqual(shownBefore.header.presentAt!);
    expect(again.at - killedAt).toBeLessThanOrEqual(GAP_BOUND_MS);
    expect(last.closed).toBe(false);
    const resumed = await get(last, `/api/canvases/${SLUG}`);
    expect(resumed).toMatchObject({ producedBy: last.id, state: 'paused', playlist: null });
    expect(resumed.holding).not.toBeNull();
    expect(resumed.source.details.path).toContain(`${path.sep}green`);
  });
});
