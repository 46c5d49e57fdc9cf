import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * A node joining takes canvases without a gap: node-a alone produces two canvases; node-b joins,
 * node-a hands one over (lease transfer plus a notice) right after a frame, and node-b goes on
 * at the next slot of node-a's cadence. Displays of the canvas that moved, on both nodes, see
 * seq rise, presentAt never go back, and no step between frames much longer than one period.
 */
const TOKEN = 'cluster-handover-test-token';
const asOperator = { authorization: `Bearer ${TOKEN}` };
const SLUGS = ['left', 'right'];
const FPS = 4;
const PERIOD_MS = 1000 / FPS;
/**
 * Two periods: the new owner's first slot falls one period after the old owner's last, on the
 * same grid; one more period covers a first image not rendered by then on a busy box (the slot
 * holds). Before the handover was planned this step was 841 to 886 ms in 4 runs on a busy
 * 2-core box (a release, the joining node's next placement step, then its start-up); with it,
 * 250 ms in 5 runs.
 */
const MAX_STEP_MS = 2 * PERIOD_MS;

const json = async (url: string) => (await (await fetch(url, { headers: asOperator })).json()) as Record<string, any>;

/** The longest step between consecutive frames a display saw, by `key`. */
const longestStep = (d: DisplayClient, key: (f: DisplayClient['frames'][number]) => number) => {
  let longest = 0;
  for (let i = 1; i < d.frames.length; i++) longest = Math.max(longest, key(d.frames[i]!) - key(d.frames[i - 1]!));
  return Math.round(longest);
};

describe('a node joining takes canvases without a gap', () => {
  let redis: TestRedis;
  let folder: ReturnType<typeof tempFolder>;
  const nodes: TestServer[] = [];
  const displays: DisplayClient[] = [];
  const env = () => ({
    EASEL_REDIS_URL: redis.url,
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_FOLDER: folder.dir,
    EASEL_FPS: String(FPS),
    EASEL_WIDTH: '32',
    EASEL_HEIGHT: '32',
    EASEL_CANVASES: JSON.stringify(SLUGS.map((slug) => ({ slug }))),
  });
  const watched: Array<{ node: TestServer; slug: string; display: DisplayClient }> = [];
  const watch = async (node: TestServer, slug: string) => {
    const d = new DisplayClient(node.ws(slug));
    displays.push(d);
    watched.push({ node, slug, display: d });
    await d.opened;
    return d;
  };
  const canvasesOf = async (node: TestServer) => {
    const view = await json(node.http('/api/cluster'));
    return new Map((view.nodes as Array<{ id: string; canvases: string[] }>).map((n) => [n.id, n.canvases]));
  };

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    const colours = ['#336699', '#996633', '#339966', '#663399', '#999933', '#cc3333'];
    for (const [i, c] of colours.entries()) putImage(folder.dir, `${i}.png`, await solidPng(c, 32, 32));
  });

  afterAll(async () => {
    for (const d of displays) d.close();
    for (const n of nodes) await n.close();
    await redis?.stop();
    folder?.remove();
  });

  it('hands one canvas to the joining node, whose frames follow the old owner’s within a period', async () => {
    const a = await startTestServer({ ...env(), EASEL_NODE_ID: 'node-a' });
    nodes.push(a);
    await until(async () => ((await canvasesOf(a)).get('node-a')?.length === 2 ? true : undefined));
    const onA = new Map<string, DisplayClient>();
    for (const slug of SLUGS) onA.set(slug, await watch(a, slug));
    await until(() => ([...onA.values()].every((d) => d.frames.length >= 4) ? true : undefined));

    const b = await startTestServer({ ...env(), EASEL_NODE_ID: 'node-b' });
    nodes.push(b);
    const onB = new Map<string, DisplayClient>();
    for (const slug of SLUGS) onB.set(slug, await watch(b, slug));
    const moved = await until(async () => {
      const owned = await canvasesOf(a);
      return owned.get('node-a')?.length === 1 && owned.get('node-b')?.length === 1 ? owned.get('node-b')![0]! : undefined;
    });
    const kept = SLUGS.find((s) => s !== moved)!;
    // Handed over, not released: node-b heard the notice and took the lease from it.
    expect(a.logs.find((l) => l.msg === 'Canvas handed over to node node-b')).toMatchObject({ slug: moved, heard: true });
    // node-a sees the lease move at once; node-b says so once it has handled the notice.
    const adopted = () => b.logs.find((l) => String(l.msg).startsWith('Canvas taken over from node node-a by handover'));
    await until(() => (adopted() ? true : undefined));
    expect(adopted()).toMatchObject({ slug: moved });

    const metric = async (node: TestServer, result: string) => {
      const text = await (await fetch(node.http('/metrics'), { headers: asOperator })).text();
      return Number(new RegExp(`^easel_cluster_handovers_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
    };
    expect(await metric(a, 'given')).toBe(1);
    expect(await metric(a, 'unheard')).toBe(0);
    expect(await metric(b, 'adopted')).toBe(1);

    // Eight frames of node-b's on every display of the moved canvas.
    const handedAt = (await json(b.http(`/api/canvases/${moved}`))).lastFrame.seq as number;
    const watching = [onA.get(moved)!, onB.get(moved)!];
    await until(() => (watching.every((d) => (d.frames.at(-1)?.header.seq ?? 0) >= handedAt + 8) ? true : undefined));
    const snapshot = await json(b.http(`/api/canvases/${moved}`));
    expect(snapshot).toMatchObject({ producedBy: 'node-b', state: 'streaming' });

    const steps: number[] = [];
    const arrivals: number[] = [];
    for (const d of watching) {
      const seqs = d.frames.map((f) => f.header.seq);
      const presentAts = d.frames.map((f) => f.header.presentAt!);
      for (let i = 1; i < seqs.length; i++) {
        expect(seqs[i]!, `seq after ${seqs[i - 1]}`).toBeGreaterThan(seqs[i - 1]!);
        expect(presentAts[i]!, `presentAt of seq ${seqs[i]}`).toBeGreaterThan(presentAts[i - 1]!);
      }
      steps.push(longestStep(d, (f) => f.header.presentAt!));
      arrivals.push(longestStep(d, (f) => f.at));
    }
    // For the record (README): the longest steps across the handover, per display.
    console.log(
      `cluster-handover: "${moved}" longest presentAt step ${steps.join(', ')} ms, longest wait between arrivals ${arrivals.join(', ')} ms (period ${PERIOD_MS} ms)`,
    );
    // The display on node-a saw node-a's frames, then node-b's: the handover is in its recording.
    expect(onA.get(moved)!.frames.length).toBeGreaterThanOrEqual(12);
    for (const step of steps) expect(step).toBeLessThanOrEqual(MAX_STEP_MS);

    // The canvas that stayed never stopped.
    const stayed = onA.get(kept)!;
    const from = stayed.frames.length;
    await until(() => (stayed.frames.length >= from + 2 ? true : undefined));
    expect((await json(a.http(`/api/canvases/${kept}`))).producedBy).toBe('node-a');
  });

  it('hands its canvases over when a node stops cleanly, so screens on the other node go on without a gap', async () => {
    const [a, b] = nodes as [TestServer, TestServer];
    const kept = (await canvasesOf(b)).get('node-a')![0]!;
    const onB = watched.find((w) => w.node === b && w.slug === kept)!.display;
    await until(() => (onB.frames.length >= 4 ? true : undefined));
    const before = onB.frames.length;
    await a.close();
    nodes.splice(nodes.indexOf(a), 1);
    expect(a.logs.find((l) => l.msg === 'Canvas handed over to node node-b' && l.slug === kept)).toBeDefined();
    // node-a's close ends once node-b has heard the notice; node-b takes the lease when it has
    // handled it (or at its placement step, should that come first on a busy machine).
    await until(async () => ((await json(b.http(`/api/canvases/${kept}`))).producedBy === 'node-b' ? true : undefined));
    await until(() => (onB.frames.length >= before + 8 ? true : undefined));
    const frames = onB.frames.slice(before - 1);
    for (let i = 1; i < frames.length; i++) {
      expect(frames[i]!.header.seq).toBeGreaterThan(frames[i - 1]!.header.seq);
      expect(frames[i]!.header.presentAt!).toBeGreaterThan(frames[i - 1]!.header.presentAt!);
    }
    const step = Math.max(...frames.slice(1).map((f, i) => f.header.presentAt! - frames[i]!.header.presentAt!));
    console.log(`cluster-handover: "${kept}" longest presentAt step across node-a stopping: ${Math.round(step)} ms`);
    expect(step).toBeLessThanOrEqual(MAX_STEP_MS);
    expect((await canvasesOf(b)).get('node-b')?.sort()).toEqual([...SLUGS].sort());
  });
});
