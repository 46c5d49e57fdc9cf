import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevInferenceService, type DevInferenceService } from '../../tools/inference-dev.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { freeUdpPort, startOscDump } from '../support/osc-dump.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

/**
 * OSC out from the real server to Debian's oscdump (liblo-tools), which prints each message
 * with its type tags: `/easel/stage/frame isss 12 "a.png…" "" "folder"`. A second target is a
 * port nobody listens on and a third a name that never resolves: the first must not notice.
 */
const TOKEN = 'osc-out-operator-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };

let dump: Awaited<ReturnType<typeof startOscDump>>;
let lines: string[] = [];
let dev: DevInferenceService;
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;

const seen = (pattern: RegExp) => lines.filter((l) => pattern.test(l));

beforeAll(async () => {
  dump = await startOscDump();
  lines = dump.lines;
  const { port } = dump;
  const deadPort = await freeUdpPort();
  dev = await startDevInferenceService({ latencyMs: 20 });
  folder = tempFolder();
  const images = path.join(folder.dir, 'images');
  mkdirSync(images);
  putImage(images, 'a.png', await solidPng('#ff0000', 64, 48));
  putImage(images, 'b.png', await solidPng('#0000ff', 64, 48));
  const playlists = path.join(folder.dir, 'playlists');
  mkdirSync(playlists);
  writeFileSync(
    path.join(playlists, 'two-steps.yaml'),
    `loop: true\nsteps:\n  - folder: ${JSON.stringify(images)}\n    duration: 1s\n  - pause:\n    duration: 1s\n`,
  );
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_FOLDER: images,
    EASEL_FALLBACK_FOLDER: images,
    EASEL_INFERENCE_ENDPOINTS: dev.address,
    EASEL_INFERENCE_WIDTH: '64',
    EASEL_INFERENCE_HEIGHT: '64',
    EASEL_PLAYLISTS_DIR: playlists,
    EASEL_OSC_TARGETS: `127.0.0.1:${port},127.0.0.1:${deadPort},nowhere.invalid:9000`,
    // The listener too, and a target pointing back at it below would loop if any address we send were one we obey.
    EASEL_OSC_ENABLED: 'true',
    EASEL_OSC_HOST: '127.0.0.1',
    EASEL_OSC_PORT: '0',
    EASEL_CANVASES: JSON.stringify([
      { slug: 'stage', fps: 4, source: { type: 'folder' } },
      { slug: 'empty', fps: 4, source: { type: 'folder', path: path.join(folder.dir, 'missing') } },
    ]),
  });
});

afterAll(async () => {
  dump?.stop();
  if (process.env.OSC_DUMP_FILE) writeFileSync(process.env.OSC_DUMP_FILE, lines.join('\n'));
  await server?.close();
  await dev?.close({ force: true });
  folder?.remove();
});

describe('OSC out to a real OSC receiver (oscdump)', () => {
  it('sends a frame message per frame: int seq, string imageId, prompt and source', async () => {
    await vi.waitFor(() => expect(seen(/\/easel\/stage\/frame /).length).toBeGreaterThanOrEqual(8), { timeout: 15_000 });
    const frames = seen(/\/easel\/stage\/frame /).map((l) => /\/easel\/stage\/frame (\S+) (\d+) "([^"]*)" "([^"]*)" "([^"]*)"/.exec(l));
    for (const f of frames) {
      expect(f, 'each frame line parses').not.toBeNull();
      expect(f![1]).toBe('isss');
      expect(f![5]).toBe('folder');
    }
    const seqs = frames.map((f) => Number(f![2]));
    // One message per frame, in order, none repeated: seqs strictly rise.
    for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBeGreaterThan(seqs[i - 1]!);
    // The canvas's own numbers: the last frame message is at most a few frames behind the canvas.
    const published = server.server.registry.get('stage')!.snapshot().lastFrame!.seq;
    expect(published - seqs.at(-1)!).toBeLessThanOrEqual(4);
  });

  it('says a source is in trouble: /trouble i 1 with the state and code', async () => {
    await vi.waitFor(() => expect(seen(/\/easel\/empty\/trouble iss?s /).length).toBeGreaterThanOrEqual(1), { timeout: 10_000 });
    expect(seen(/\/easel\/empty\/trouble /)[0]).toMatch(/\/easel\/empty\/trouble isss 1 "failed" "EASEL_ERR_FOLDER_MISSING" "Folder /);
  });

  it('sends pause and resume as the canvas state, and paused as an int', async () => {
    expect((await fetch(server.http('/api/canvases/stage/pause'), { method: 'POST', headers: auth })).status).toBe(200);
    // Each message is a datagram of its own: wait for both before counting them.
    await vi.waitFor(() => expect(seen(/\/easel\/stage\/paused i 1$/).length).toBe(1), { timeout: 5000 });
    await vi.waitFor(() => expect(seen(/\/easel\/stage\/state s "paused"$/).length).toBe(1), { timeout: 5000 });
    expect((await fetch(server.http('/api/canvases/stage/resume'), { method: 'POST', headers: auth })).status).toBe(200);
    await vi.waitFor(() => expect(seen(/\/easel\/stage\/state s "(holding|streaming|starting)"$/).length).toBeGreaterThanOrEqual(1), {
      timeout: 5000,
    });
    await vi.waitFor(() => expect(seen(/\/easel\/stage\/paused i 0$/).length).toBeGreaterThanOrEqual(1), { timeout: 5000 });
    // `paused` is said when it changes, not with every state.
    expect(seen(/\/easel\/stage\/paused i [01]$/).length).toBe(2);
  });

  it('sends a prompt change and the job to done, with progress as a float', async () => {
    const res = await fetch(server.http('/api/canvases/stage/prompt'), {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ prompt: 'a red boat at dusk', count: 2 }),
    });
    expect(res.status).toBe(202);
    const { job } = (await res.json()) as { job: { id: string } };
    await vi.waitFor(
      () => expect(seen(new RegExp(`/easel/stage/job ssiifs "${job.id}" "done" 2 2 1\\.0+ "a red boat at dusk"`)).length).toBe(1),
      {
        timeout: 15_000,
      },
    );
    expect(seen(/\/easel\/stage\/prompt\/changed sss "a red boat at dusk" "[0-9a-f-]{36}" "http"$/).length).toBe(1);
    expect(seen(new RegExp(`/easel/stage/job ssiifs "${job.id}" "queued" 0 2 0\\.0+ `)).length).toBe(1);
    await vi.waitFor(
      () => expect(seen(/\/easel\/stage\/frame isss \d+ "[^"]*" "a red boat at dusk" "inference"$/).length).toBeGreaterThanOrEqual(1),
      {
        timeout: 10_000,
      },
    );
    expect(seen(/\/easel\/stage\/source s "inference"$/).length).toBeGreaterThanOrEqual(1);
  });

  it('sends display counts and playlist steps', async () => {
    const display = new DisplayClient(server.ws('stage'));
    await display.opened;
    await vi.waitFor(() => expect(seen(/\/easel\/stage\/displays i 1$/).length).toBe(1), { timeout: 5000 });
    display.close();
    await vi.waitFor(() => expect(seen(/\/easel\/stage\/displays i 0$/).length).toBe(1), { timeout: 5000 });

    const res = await fetch(server.http('/api/canvases/stage/playlist'), {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ name: 'two-steps' }),
    });
    expect(res.status).toBe(200);
    await vi.waitFor(() => expect(seen(/\/easel\/stage\/playlist\/step siisi "two-steps" 1 2 "pause/).length).toBeGreaterThanOrEqual(1), {
      timeout: 10_000,
    });
    expect(seen(/\/easel\/stage\/playlist\/step siisi "two-steps" 0 2 "folder/).length).toBeGreaterThanOrEqual(1);
    expect(seen(/\/easel\/stage\/playlist\/state ss "started" "two-steps"$/).length).toBe(1);
    await fetch(server.http('/api/canvases/stage/playlist'), { method: 'DELETE', headers: auth });
    await vi.waitFor(() => expect(seen(/\/easel\/stage\/playlist\/state ss "stopped" "two-steps"$/).length).toBe(1), { timeout: 5000 });
  });

  it('counts what it sent in /metrics; the dead port and the unknown name cost the live target nothing', async () => {
    const metrics = await (await fetch(server.http('/metrics'))).text();
    const count = (result: string) =>
      Number(new RegExp(`easel_osc_out_messages_total\\{result="${result}"\\} (\\d+)`).exec(metrics)?.[1] ?? NaN);
    // Every message goes to the two address targets; the name never resolves.
    expect(count('sent')).toBeGreaterThanOrEqual(2 * seen(/\/easel\//).length - 10);
    expect(count('unresolved')).toBeGreaterThan(0);
    expect(count('failed')).toBe(0);
  });

  it('starts no loop when a target is an Easel OSC listener: what it hears, it ignores', async () => {
    const before = (await (await fetch(server.http('/metrics'))).text()).match(/easel_osc_messages_total\{result="ok"\} (\d+)/)?.[1];
    const { createOscOut } = await import('../../server/outputs/osc-out.js');
    const { frameMessage, eventMessages } = await import('../../server/outputs/osc-messages.js');
    const { systemClock } = await import('../../server/stream/clock.js');
    const { logger } = await import('../support/log-capture.js').then((m) => m.captureLogs('warn'));
    const back = createOscOut({ targets: [`127.0.0.1:${server.server.oscPort}`], clock: systemClock, logger });
    back.send([frameMessage('stage', { seq: 1, imageId: 'x', prompt: 'p', source: 'folder' })]);
    back.send(eventMessages({ type: 'canvas', slug: 'stage', state: 'paused' }));
    back.send(
      eventMessages({ type: 'command', slug: 'stage', command: 'prompt', origin: { via: 'http' }, detail: { prompt: 'p', job: 'j' } }),
    );
    await vi.waitFor(async () => {
      const text = await (await fetch(server.http('/metrics'))).text();
      expect(Number(/easel_osc_messages_total\{result="malformed"\} (\d+)/.exec(text)?.[1])).toBe(4);
    });
    const after = (await (await fetch(server.http('/metrics'))).text()).match(/easel_osc_messages_total\{result="ok"\} (\d+)/)?.[1];
    expect(after).toBe(before);
    expect(server.server.registry.get('stage')!.snapshot().state).not.toBe('paused');
    await back.close();
  });
});
