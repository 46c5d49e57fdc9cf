import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevInferenceService, type DevInferenceService } from '../../tools/inference-dev.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * Three real nodes on one real redis-server, and one server alone with the same config: a
 * command sent to a node that does not produce the canvas acts on it where it is produced, and
 * every answer (success or problem) is what the server alone gives; /api/events on any node
 * tells what happened on the others.
 */
const TOKEN = 'cluster-commands-test-token';
const asOperator = { authorization: `Bearer ${TOKEN}` };
const SLUG = 'wall-1';

interface Answer {
  status: number;
  body: Record<string, any>;
  headers: Headers;
}

async function call(
  node: TestServer,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = asOperator,
): Promise<Answer> {
  const raw = Buffer.isBuffer(body);
  const res = await fetch(node.http(path), {
    method,
    headers: {
      ...headers,
      ...(body === undefined ? {} : { 'content-type': raw ? 'image/png' : 'application/json' }),
    },
    ...(body === undefined ? {} : { body: raw ? new Uint8Array(body) : JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : {}, headers: res.headers };
}

/** GET /api/events, read as it comes. */
function watchEvents(node: TestServer) {
  const events: Array<{ type: string; data: any }> = [];
  let buffered = '';
  const req = http.get({ host: '127.0.0.1', port: node.port, path: '/api/events', headers: asOperator, agent: false }, (res) => {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffered += chunk;
      const blocks = buffered.split('\n\n');
      buffered = blocks.pop()!;
      for (const block of blocks) {
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type && data) events.push({ type, data: JSON.parse(data) });
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  return { events, close: () => req.destroy() };
}

const commandsHeard = (stream: ReturnType<typeof watchEvents>, command: string) =>
  stream.events.filter((e) => e.type === 'command' && e.data.command === command && e.data.slug === SLUG);

describe('commands sent to any node of a cluster', () => {
  let redis: TestRedis;
  let dev: DevInferenceService;
  let folder: ReturnType<typeof tempFolder>;
  let second: ReturnType<typeof tempFolder>;
  let playlistsDir: ReturnType<typeof tempFolder>;
  const nodes = new Map<string, TestServer>();
  let alone: TestServer;
  let owner: TestServer;
  let ownerId: string;
  /** Two nodes that do not produce the canvas. */
  let b: TestServer;
  let c: TestServer;
  const displays: DisplayClient[] = [];
  const streams: Array<ReturnType<typeof watchEvents>> = [];

  beforeAll(async () => {
    redis = await startRedis();
    dev = await startDevInferenceService({ latencyMs: 40 });
    folder = tempFolder();
    second = tempFolder();
    const colours = ['#336699', '#996633', '#339966', '#663399'];
    for (const [i, col] of colours.entries()) putImage(folder.dir, `${i}.png`, await solidPng(col, 64, 64));
    putImage(second.dir, 'x.png', await solidPng('#ff00ff', 64, 64));
    playlistsDir = tempFolder();
    writeFileSync(path.join(playlistsDir.dir, 'hush.yaml'), 'loop: true\nsteps:\n  - pause:\n    duration: 60s\n');
    const env = {
      EASEL_OPERATOR_TOKEN: TOKEN,
      EASEL_FOLDER: folder.dir,
      EASEL_FALLBACK_FOLDER: folder.dir,
      EASEL_WIDTH: '64',
      EASEL_HEIGHT: '64',
      EASEL_MAX_FILE_BYTES: '200000',
      EASEL_INFERENCE_ENDPOINTS: dev.address,
      EASEL_INFERENCE_WIDTH: '64',
      EASEL_INFERENCE_HEIGHT: '64',
      EASEL_OSC_ENABLED: 'true',
      EASEL_OSC_HOST: '127.0.0.1',
      EASEL_OSC_PORT: '0',
      EASEL_PLAYLISTS_DIR: playlistsDir.dir,
      EASEL_CANVASES: JSON.stringify([{ slug: SLUG, source: { type: 'folder' } }]),
    };
    alone = await startTestServer(env);
    for (const id of ['node-a', 'node-b', 'node-c']) {
      nodes.set(id, await startTestServer({ ...env, EASEL_REDIS_URL: redis.url, EASEL_NODE_ID: id, EASEL_LEASE_MS: '1500' }));
    }
    ownerId = await until(async () => {
      const view = (await call(nodes.get('node-a')!, 'GET', '/api/cluster')).body;
      const owning = (view.nodes ?? []).filter((n: { canvases: string[] }) => n.canvases.includes(SLUG));
      return view.nodes?.length === 3 && owning.length === 1 ? (owning[0].id as string) : undefined;
    });
    owner = nodes.get(ownerId)!;
    [b, c] = [...nodes.values()].filter((n) => n !== owner) as [TestServer, TestServer];
  });

  afterAll(async () => {
    for (const s of streams) s.close();
    for (const d of displays) d.close();
    for (const n of nodes.values()) await n.close();
    await alone?.close();
    await redis?.stop();
    await dev?.close({ force: true });
    folder?.remove();
    second?.remove();
    playlistsDir?.remove();
  });

  const ownerState = () => owner.server.registry.get(SLUG)!.snapshot();
  const watch = async (node: TestServer) => {
    const d = new DisplayClient(node.ws(SLUG));
    displays.push(d);
    await d.opened;
    return d;
  };
  const events = (node: TestServer) => {
    const s = watchEvents(node);
    streams.push(s);
    return s;
  };

  it('pauses the canvas on its owner when told through another node, answering as a server alone does', async () => {
    const onC = events(c);
    const onOwner = events(owner);
    await until(() => (onC.events.some((e) => e.type === 'hello') && onOwner.events.some((e) => e.type === 'hello') ? true : undefined));
    const viaB = await call(b, 'POST', `/api/canvases/${SLUG}/pause`);
    const single = await call(alone, 'POST', `/api/canvases/${SLUG}/pause`);
    expect(viaB.status).toBe(200);
    expect(viaB.status).toBe(single.status);
    expect(viaB.body.state).toBe('paused');
    expect(Object.keys(viaB.body).sort()).toEqual(Object.keys(single.body).sort());
    expect(ownerState().state).toBe('paused');
    // Paused: the owner publishes nothing more.
    const seq = ownerState().lastFrame?.seq;
    await new Promise((r) => setTimeout(r, 1200));
    expect(ownerState().lastFrame?.seq).toBe(seq);

    // C heard the pause done on the owner through B, once; the owner heard its own once too.
    const heard = await until(() => commandsHeard(onC, 'pause')[0]);
    expect(heard.data).toMatchObject({ node: ownerId, origin: { via: 'http' } });
    expect(onC.events.some((e) => e.type === 'canvas' && e.data.state === 'paused' && e.data.node === ownerId)).toBe(true);
    await new Promise((r) => setTimeout(r, 300));
    expect(commandsHeard(onC, 'pause')).toHaveLength(1);
    expect(commandsHeard(onOwner, 'pause')).toHaveLength(1);
    expect(commandsHeard(onOwner, 'pause')[0]!.data.node).toBeUndefined();

    expect((await call(b, 'GET', '/api/cluster')).body.commands.forwarded).toBeGreaterThanOrEqual(1);
    expect((await call(owner, 'GET', '/api/cluster')).body.commands.served).toBeGreaterThanOrEqual(1);
    expect((await call(owner, 'GET', '/api/cluster')).body.events.published).toBeGreaterThanOrEqual(2);

    const resumed = await call(c, 'POST', `/api/canvases/${SLUG}/resume`);
    expect(resumed.status).toBe(200);
    expect(resumed.body.state).not.toBe('paused');
    expect(ownerState().state).not.toBe('paused');
    expect((await call(alone, 'POST', `/api/canvases/${SLUG}/resume`)).status).toBe(200);
  });

  it('changes the source and the prompt on the owner, and finds and cancels the job from any node', async () => {
    const source = await call(b, 'PUT', `/api/canvases/${SLUG}/source`, { type: 'folder', path: second.dir });
    expect(source.status).toBe(200);
    expect(source.body.source).toMatchObject({ kind: 'folder', details: { path: second.dir } });
    expect(ownerState().source).toMatchObject({ kind: 'folder', details: { path: second.dir } });

    const prompt = await call(b, 'POST', `/api/canvases/${SLUG}/prompt`, { prompt: 'a red boat' });
    const single = await call(alone, 'POST', `/api/canvases/${SLUG}/prompt`, { prompt: 'a red boat' });
    expect(prompt.status).toBe(202);
    expect(prompt.status).toBe(single.status);
    expect(Object.keys(prompt.body.job).sort()).toEqual(Object.keys(single.body.job).sort());
    expect(prompt.headers.get('location')).toBe(`/api/jobs/${prompt.body.job.id}`);
    expect(ownerState().source.kind).toBe('inference');

    // The job lives on the owner; C finds it (Redis) and cancels it there.
    const id = prompt.body.job.id as string;
    const found = await until(async () => {
      const got = await call(c, 'GET', `/api/jobs/${id}`);
      return got.status === 200 ? got : undefined;
    });
    expect(found.body.job).toMatchObject({ id, slug: SLUG, prompt: 'a red boat' });
    const cancelled = await call(c, 'DELETE', `/api/jobs/${id}`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.job).toMatchObject({ id, state: 'cancelled' });
    expect((await call(owner, 'GET', `/api/jobs/${id}`)).body.job.state).toBe('cancelled');
    const missing = await call(c, 'GET', '/api/jobs/no-such-job');
    expect(missing).toMatchObject({ status: 404, body: (await call(alone, 'GET', '/api/jobs/no-such-job')).body });

    expect((await call(c, 'PUT', `/api/canvases/${SLUG}/source`, { type: 'folder', path: folder.dir })).status).toBe(200);
    await until(() => (ownerState().source.details?.path === folder.dir ? true : undefined));
  });

  it('shows a still uploaded to another node on the displays of every node', async () => {
    const all = [await watch(owner), await watch(b), await watch(c)];
    await until(() => (all.every((d) => d.frames.length > 0) ? true : undefined));
    const still = await solidPng('#00ff00', 64, 64);
    const viaC = await call(c, 'POST', `/api/canvases/${SLUG}/image?hold=0`, still);
    expect(viaC.status).toBe(202);
    expect(viaC.body.imageId).toMatch(/^u-/);
    await until(() => (all.every((d) => d.frames.some((f) => f.header.imageId === viaC.body.imageId)) ? true : undefined));
    // Over render.maxFileBytes: refused before it crosses Redis, with the answer a server alone gives.
    const big = Buffer.alloc(250_000, 1);
    const refused = await call(b, 'POST', `/api/canvases/${SLUG}/image`, big);
    expect(refused.status).toBe(413);
    expect(refused.body).toEqual((await call(alone, 'POST', `/api/canvases/${SLUG}/image`, big)).body);
    expect((await call(b, 'POST', `/api/canvases/${SLUG}/next`)).status).toBe(200);
  });

  it('answers errors exactly as a server alone does', async () => {
    const same = async (method: string, path: string, body?: unknown, headers?: Record<string, string>) => {
      const [viaB, single] = [await call(b, method, path, body, headers), await call(alone, method, path, body, headers)];
      expect(viaB.status, `${method} ${path}`).toBe(single.status);
      expect(viaB.body, `${method} ${path}`).toEqual(single.body);
      return viaB;
    };
    const typo = await same('POST', '/api/canvases/wall-2/pause');
    expect(typo.status).toBe(404);
    expect(typo.body.hint).toContain(SLUG);
    expect((await same('PUT', `/api/canvases/${SLUG}/source`, { type: 'nope' })).status).toBe(400);
    // Refused by the owner (the folder is looked for where the canvas is produced), told by B.
    expect((await same('PUT', `/api/canvases/${SLUG}/source`, { type: 'folder', path: '/no/such/folder' })).status).toBe(400);
    expect((await same('POST', `/api/canvases/${SLUG}/prompt`, { prompt: 'x', steps: 99 })).status).toBe(400);
    expect((await same('POST', `/api/canvases/${SLUG}/pause`, undefined, {})).status).toBe(401);
    expect((await same('POST', `/api/canvases/${SLUG}/pause`, undefined, { authorization: 'Bearer wrong-token-here' })).status).toBe(403);
    expect(ownerState().state).not.toBe('paused');
  });

  it('acts on the canvas from an OSC message sent to another node', async () => {
    const send = (address: string) => {
      const r = spawnSync('oscsend', ['127.0.0.1', String(b.server.oscPort), address], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    };
    send(`/easel/${SLUG}/pause`);
    await until(() => (ownerState().state === 'paused' ? true : undefined));
    send(`/easel/${SLUG}/resume`);
    await until(() => (ownerState().state !== 'paused' ? true : undefined));
  });

  it('runs a playlist started through another node on the owner, and stops it from a third', async () => {
    const started = await call(b, 'POST', `/api/canvases/${SLUG}/playlist`, { name: 'hush' });
    expect(started.status).toBe(200);
    expect(started.body.playlist).toMatchObject({ playlist: 'hush', state: 'running' });
    // Its pause step runs on the owner, through the owner's own commands.
    await until(() => (ownerState().state === 'paused' ? true : undefined));
    expect((await call(owner, 'GET', `/api/canvases/${SLUG}`)).body.playlist).toMatchObject({ playlist: 'hush' });
    expect((await call(b, 'GET', `/api/canvases/${SLUG}`)).body.playlist).toBeNull();
    const stopped = await call(c, 'DELETE', `/api/canvases/${SLUG}/playlist`);
    expect(stopped.status).toBe(200);
    expect(stopped.body.playlist).toBeNull();
    await until(() => (ownerState().state !== 'paused' ? true : undefined));
    const unknown = await call(b, 'POST', `/api/canvases/${SLUG}/playlist`, { name: 'no-such-show' });
    expect(unknown).toMatchObject({
      status: 404,
      body: (await call(alone, 'POST', `/api/canvases/${SLUG}/playlist`, { name: 'no-such-show' })).body,
    });
  });

  it('ignores junk on the command and event channels and keeps working', async () => {
    const raw = new Redis(redis.url);
    try {
      const bId = [...nodes].find(([, n]) => n === b)![0];
      await raw.publish(`easel:control:${bId}`, 'not json');
      await raw.publish(`easel:control:${ownerId}`, JSON.stringify({ kind: 'reply', id: 'nobody-waits', from: 'x', ok: true }));
      await raw.publish(`easel:control:${ownerId}`, Buffer.alloc(300_000, 0x7b));
      await raw.publish('easel:events', '{"node":"x","event":{"type":"nonsense"}}');
    } finally {
      raw.disconnect();
    }
    const counted = async (node: TestServer) => (await call(node, 'GET', '/api/cluster')).body;
    await until(async () => ((await counted(b)).commands.refused.malformed === 1 ? true : undefined));
    await until(async () => ((await counted(owner)).commands.refused.oversized === 1 ? true : undefined));
    expect((await counted(owner)).commands.refused.unknownReply).toBe(1);
    for (const n of nodes.values()) await until(async () => ((await counted(n)).events.refused.malformed === 1 ? true : undefined));
    expect(b.logs.some((l) => l.msg === 'Control message from Redis ignored')).toBe(true);
    expect((await call(b, 'POST', `/api/canvases/${SLUG}/next`)).status).toBe(200);
  });

  it('waits for the new owner when the owner leaves, then carries the command out there', async () => {
    await owner.close();
    nodes.delete(ownerId);
    // Sent while the lease is free: B waits for whichever node takes the canvas, and it is paused there.
    const paused = await call(b, 'POST', `/api/canvases/${SLUG}/pause`);
    expect(paused.status).toBe(200);
    expect(paused.body.state).toBe('paused');
    const newOwner = await until(async () => {
      const view = (await call(c, 'GET', '/api/cluster')).body;
      const owning = (view.nodes ?? []).filter((n: { canvases: string[] }) => n.canvases.includes(SLUG));
      return view.nodes?.length === 2 && owning.length === 1 ? (owning[0].id as string) : undefined;
    });
    expect(nodes.get(newOwner)!.server.registry.get(SLUG)!.snapshot().state).toBe('paused');
    const other = [...nodes].find(([id]) => id !== newOwner)![1];
    expect((await call(other, 'POST', `/api/canvases/${SLUG}/resume`)).status).toBe(200);
    expect(nodes.get(newOwner)!.server.registry.get(SLUG)!.snapshot().state).not.toBe('paused');
  });
});
