import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { putImage, solidPng } from '../support/images.js';
import { startMain, type MainProcess } from '../support/main-process.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

const lastFrameAt = async (base: string): Promise<{ seq: number; timestamp: string } | undefined> => {
  const res = await fetch(`${base}/api/canvases/wall`);
  const body = (await res.json()) as { lastFrame?: { seq: number; timestamp: string } | null };
  return body.lastFrame ?? undefined;
};
const seqAt = async (base: string): Promise<number> => (await lastFrameAt(base))?.seq ?? 0;
const LEAD_MS = 300;

describe('a node frozen past its lease (SIGSTOP) on a real redis-server', () => {
  let redis: TestRedis;
  let folder: ReturnType<typeof tempFolder>;
  let frozen: MainProcess | undefined;
  let other: TestServer | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    putImage(folder.dir, 'a.png', await solidPng('#336699', 32, 32));
    putImage(folder.dir, 'b.png', await solidPng('#996633', 32, 32));
  });

  afterAll(async () => {
    if (frozen && frozen.child.exitCode === null) {
      frozen.child.kill('SIGCONT');
      frozen.child.kill('SIGTERM');
      await frozen.exited;
    }
    await other?.close();
    await redis?.stop();
    folder?.remove();
  });

  it('publishes nothing when it resumes: the node that took the canvas goes on alone', async () => {
    const env = {
      EASEL_REDIS_URL: redis.url,
      EASEL_LEASE_MS: '1500',
      EASEL_FOLDER: folder.dir,
      EASEL_WIDTH: '32',
      EASEL_HEIGHT: '32',
      EASEL_CANVASES: JSON.stringify([{ slug: 'wall' }]),
      EASEL_LEAD_MS: String(LEAD_MS),
    };
    frozen = startMain(['--host', '127.0.0.1', '--port', '0'], { ...env, EASEL_NODE_ID: 'node-frozen', EASEL_PLAYLISTS_DIR: folder.dir });
    const frozenAt = `http://127.0.0.1:${await frozen.port}`;
    // node-frozen holds the canvas and produces it before the other node starts.
    await until(async () => ((await seqAt(frozenAt)) >= 2 ? true : undefined));
    other = await startTestServer({ ...env, EASEL_NODE_ID: 'node-other' });
    const otherAt = other.http('');
    const idle = await seqAt(otherAt);

    const produced = async (base: string): Promise<number> => {
      const body = (await (await fetch(`${base}/api/canvases/wall`)).json()) as { counters: { published: number; relayed: number } };
      return body.counters.published - body.counters.relayed;
    };
    const producedBeforeStop = await produced(frozenAt);
    const stoppedAt = Date.now();
    frozen.child.kill('SIGSTOP');
    // Its lease runs out in Redis; node-other takes the canvas and produces it.
    await until(async () => ((await seqAt(otherAt)) >= idle + 3 ? true : undefined));
    frozen.child.kill('SIGCONT');
    const seqWhenFrozen = await until(() => seqAt(frozenAt));
    const otherThen = await seqAt(otherAt);
    // A window in which node-other published three more frames: node-frozen produced none. It
    // shows node-other's frames now, relayed through Redis, so its seq follows node-other's.
    await until(async () => ((await seqAt(otherAt)) >= otherThen + 3 ? true : undefined));
    // One slot may fall between reading its count and stopping it; none after it resumed.
    expect((await produced(frozenAt)) - producedBeforeStop).toBeLessThanOrEqual(1);
    const resumed = await lastFrameAt(frozenAt);
    expect(resumed!.seq).toBeGreaterThan(seqWhenFrozen);
    expect(Date.parse(resumed!.timestamp)).toBeGreaterThan(stoppedAt);
    const lost = frozen.stdout
      .map((l) => JSON.parse(l) as { msg?: string; slug?: string })
      .filter((l) => l.msg?.startsWith('Canvas lease lost'));
    expect(lost).toEqual([expect.objectContaining({ slug: 'wall' })]);
  });
});
