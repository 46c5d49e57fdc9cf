import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createFakeInferenceClient } from '../../test/support/fake-inference-client.js';
import { noisyJpeg, putImage, solidPng } from '../../test/support/images.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createRegistry } from '../canvas/registry.js';
import { loadConfig } from '../config.js';
import type { InferenceClient } from '../inference/client.js';
import { createCommands } from './commands.js';
import { createEventBus, type EaselEvent } from './events.js';
import { createJobTracker } from './jobs.js';
import { quickRenderer } from '../../test/support/test-renderer.js';

/**
 * The commands' own rules on real canvases (a temp folder of tiny PNGs), a real event bus and job
 * tracker, and a fake clock: what they refuse, before changing anything, and what they announce.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const HTTP = { via: 'http', who: '127.0.0.1' } as const;
const OSC = { via: 'osc', who: '10.0.0.9:9000' } as const;

/** The fake Generate stream, with the rest of the client answering as a service taking 1-4 steps would. */
function inferenceClient() {
  const fake = createFakeInferenceClient();
  const client: InferenceClient = {
    generate: fake.generate,
    onChange: fake.onChange,
    getInfo: () =>
      Promise.resolve({ minInferenceSteps: 1, maxInferenceSteps: 4, maxBatch: 1, endpoint: 'fake:1' } as Awaited<
        ReturnType<InferenceClient['getInfo']>
      >),
    status: () => ({ state: 'up', endpoints: [] }),
    close: () => Promise.resolve(),
  };
  return { fake, client };
}

async function setUp(opts: { inference?: boolean; env?: Record<string, string> } = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-commands-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  putImage(dir, 'a.png', await solidPng('#ff0000', 32, 32));
  putImage(dir, 'b.png', await solidPng('#0000ff', 32, 32));
  const config = loadConfig({
    env: {
      EASEL_CANVASES: '[{"slug": "left-canva"}]',
      EASEL_FOLDER: dir,
      EASEL_FALLBACK_FOLDER: '',
      EASEL_WIDTH: '64',
      EASEL_HEIGHT: '64',
      ...opts.env,
    },
    argv: [],
    configDir: dir,
  });
  const clock = new FakeClock(Date.now());
  const { logger, lines } = captureLogs();
  const renderer = quickRenderer();
  const events = createEventBus();
  const heard: EaselEvent[] = [];
  events.subscribe((e) => heard.push(e));
  const inference = opts.inference ? inferenceClient() : undefined;
  const registry = createRegistry({ config, renderer, clock, logger, inference: inference?.client });
  cleanups.push(() => registry.closeAll());
  registry.startDeclared();
  const jobs = createJobTracker({ events, canvases: registry, clock });
  const commands = createCommands({ registry, config, events, jobs, inference: inference?.client, clock, logger });
  /** Moves the clock a slot at a time, letting renders finish in between. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 250) {
      await new Promise((r) => setTimeout(r, 5));
      clock.advance(Math.min(250, ms - t));
    }
  };
  const commandsHeard = () => heard.filter((e) => e.type === 'command');
  return { dir, registry, commands, heard, commandsHeard, lines, fake: inference?.fake, run };
}

describe('commands act only on canvases that exist', () => {
  it('answers a typo with "did you mean" and never creates the canvas', async () => {
    const { commands, registry, heard } = await setUp();
    expect(() => commands.pause('left-canvas', HTTP)).toThrow(
      expect.objectContaining({ code: 'EASEL_ERR_NOT_FOUND', details: { slug: 'left-canvas', didYouMean: 'left-canva' } }),
    );
    expect(() => commands.get('left-canvas')).toThrow('did you mean "left-canva"?');
    await expect(commands.setSource('left-canvas', { type: 'folder', path: '.' }, HTTP)).rejects.toMatchObject({
      code: 'EASEL_ERR_NOT_FOUND',
    });
    await expect(commands.removeCanvas('nowhere', HTTP)).rejects.toMatchObject({ code: 'EASEL_ERR_NOT_FOUND' });
    expect(registry.get('left-canvas')).toBeUndefined();
    expect(heard).toEqual([]);
  });

  it('refuses a malformed slug as such, not as an unknown canvas', async () => {
    const { commands } = await setUp();
    expect(() => commands.next('Left Canva', HTTP)).toThrow(expect.objectContaining({ code: 'EASEL_ERR_SLUG_INVALID' }));
  });

  it('refuses to remove a declared canvas, and removes one a display created', async () => {
    const { commands, registry, commandsHeard } = await setUp();
    await expect(commands.removeCanvas('left-canva', HTTP)).rejects.toMatchObject({
      code: 'EASEL_ERR_CANVAS_DECLARED',
      details: { slug: 'left-canva' },
    });
    expect(registry.get('left-canva')).toBeDefined();
    registry.getOrCreate('guest');
    await commands.removeCanvas('guest', HTTP);
    expect(registry.get('guest')).toBeUndefined();
    expect(commandsHeard()).toEqual([{ type: 'command', slug: 'guest', command: 'remove', origin: HTTP }]);
  });
});

describe('pause, resume and next', () => {
  it('are carried out and announced with where they came from, in one log line each', async () => {
    const { commands, commandsHeard, lines, run } = await setUp();
    await run(1000);
    commands.pause('left-canva', OSC);
    expect(commands.get('left-canva').state).toBe('paused');
    commands.next('left-canva', HTTP);
    expect(commands.get('left-canva').state).toBe('paused');
    commands.resume('left-canva', OSC);
    expect(commands.get('left-canva').state).not.toBe('paused');
    expect(commandsHeard()).toEqual([
      { type: 'command', slug: 'left-canva', command: 'pause', origin: OSC },
      { type: 'command', slug: 'left-canva', command: 'next', origin: HTTP, detail: { shown: expect.any(Boolean) } },
      { type: 'command', slug: 'left-canva', command: 'resume', origin: OSC },
    ]);
    const logged = lines.filter((l) => typeof l.command === 'string');
    expect(logged.map((l) => [l.command, l.via, l.who, l.slug])).toEqual([
      ['pause', 'osc', '10.0.0.9:9000', 'left-canva'],
      ['next', 'http', '127.0.0.1', 'left-canva'],
      ['resume', 'osc', '10.0.0.9:9000', 'left-canva'],
    ]);
  });
});

describe('prompts', () => {
  it('are refused with EASEL_ERR_INFERENCE_NOT_CONFIGURED when no service is configured, changing nothing', async () => {
    const { commands, heard } = await setUp();
    await expect(commands.setPrompt('left-canva', { prompt: 'a lighthouse' }, HTTP)).rejects.toMatchObject({
      code: 'EASEL_ERR_INFERENCE_NOT_CONFIGURED',
    });
    await expect(commands.setSource('left-canva', { type: 'inference', prompt: 'a lighthouse' }, HTTP)).rejects.toMatchObject({
      code: 'EASEL_ERR_INFERENCE_NOT_CONFIGURED',
    });
    expect(commands.get('left-canva').source.kind).toBe('folder');
    expect(heard).toEqual([]);
  });

  it("refuses steps outside the service's own range before any job or change", async () => {
    const { commands, heard, fake } = await setUp({ inference: true });
    await expect(commands.setPrompt('left-canva', { prompt: 'a lighthouse', steps: 8 }, HTTP)).rejects.toMatchObject({
      code: 'EASEL_ERR_REQUEST_INVALID',
      details: { field: 'steps' },
      message: expect.stringContaining('takes 1 to 4'),
    });
    await expect(commands.setPrompt('left-canva', { prompt: '' }, HTTP)).rejects.toMatchObject({ code: 'EASEL_ERR_REQUEST_INVALID' });
    expect(commands.get('left-canva').source.kind).toBe('folder');
    expect(heard).toEqual([]);
    expect(fake!.calls).toHaveLength(0);
  });

  it('start a job that follows the frames shown, and a cancelled job puts the previous prompt back', async () => {
    const { commands, heard, fake, registry, run } = await setUp({ inference: true });
    const jobHeard = (id: string) => heard.flatMap((e) => (e.type === 'job' && e.job.id === id ? [e.job.state] : []));

    const first = await commands.setPrompt('left-canva', { prompt: 'a lighthouse', count: 2, steps: 2 }, HTTP);
    expect(first).toMatchObject({ slug: 'left-canva', prompt: 'a lighthouse', count: 2, produced: 0, state: 'queued' });
    expect(commands.get('left-canva').source.kind).not.toBe('folder');
    expect(heard).toContainEqual({
      type: 'command',
      slug: 'left-canva',
      command: 'prompt',
      origin: HTTP,
      detail: { prompt: 'a lighthouse', job: first.id },
    });

    await vi.waitFor(() => expect(fake!.calls.length).toBeGreaterThan(0));
    expect(fake!.calls[0]!.request).toMatchObject({ prompt: 'a lighthouse', numInferenceSteps: 2 });
    const image = await solidPng('#00ff00', 32, 32);
    fake!.calls[0]!.send(2, image);
    await vi.waitFor(
      async () => {
        await run(250);
        expect(commands.job(first.id).state).toBe('done');
      },
      { timeout: 10_000, interval: 0 },
    );
    expect(commands.job(first.id).produced).toBe(2);
    expect(jobHeard(first.id)).toEqual(['queued', 'generating', 'done']);

    // A second prompt on a generating canvas changes the prompt in place; cancelling it reverts to the first.
    const second = await commands.setPrompt('left-canva', { prompt: 'a harbour at night' }, HTTP);
    expect(registry.prompter('left-canva')!.status().details?.prompt).toBe('a harbour at night');
    expect(commands.cancelJob(second.id, OSC)).toMatchObject({ id: second.id, state: 'cancelled' });
    await vi.waitFor(() => expect(registry.prompter('left-canva')!.status().details?.prompt).toBe('a lighthouse'));
    expect(heard).toContainEqual({ type: 'command', slug: 'left-canva', command: 'cancel-job', origin: OSC, detail: { job: second.id } });
    expect(() => commands.job('no-such-job')).toThrow(expect.objectContaining({ code: 'EASEL_ERR_NOT_FOUND' }));
  });

  it('replace the job still running on the canvas', async () => {
    const { commands } = await setUp({ inference: true });
    const first = await commands.setPrompt('left-canva', { prompt: 'a lighthouse' }, HTTP);
    const second = await commands.setPrompt('left-canva', { prompt: 'a harbour' }, HTTP);
    expect(commands.job(first.id)).toMatchObject({ state: 'cancelled', reason: 'Replaced by a newer prompt' });
    expect(commands.job(second.id).state).toBe('queued');
  });
});

describe('still images', () => {
  it('over the file size limit are refused before anything changes or is read', async () => {
    const { dir, commands, heard } = await setUp({ env: { EASEL_MAX_FILE_BYTES: '4000' } });
    const big = await noisyJpeg(128, 128);
    expect(big.length).toBeGreaterThan(4000);
    const file = putImage(dir, 'big.jpg', big);
    await expect(commands.setSource('left-canva', { type: 'still', path: file }, HTTP)).rejects.toMatchObject({
      code: 'EASEL_ERR_IMAGE_TOO_LARGE',
      details: { bytes: big.length, maxFileBytes: 4000 },
    });
    await expect(commands.showStill('left-canva', big, 10_000, HTTP)).rejects.toMatchObject({ code: 'EASEL_ERR_IMAGE_TOO_LARGE' });
    expect(commands.get('left-canva')).toMatchObject({ source: { kind: 'folder' }, holding: null });
    expect(heard).toEqual([]);
  });

  it('over the pixel limit, or not images at all, are refused from the header alone', async () => {
    const { dir, commands, heard } = await setUp({ env: { EASEL_LIMIT_INPUT_PIXELS: '10000' } });
    const wide = await solidPng('#ffffff', 400, 400);
    const file = putImage(dir, 'wide.png', wide);
    await expect(commands.setSource('left-canva', { type: 'still', path: file }, HTTP)).rejects.toMatchObject({
      code: 'EASEL_ERR_IMAGE_TOO_LARGE',
      details: { width: 400, height: 400 },
    });
    await expect(commands.showStill('left-canva', wide, 10_000, HTTP)).rejects.toMatchObject({ code: 'EASEL_ERR_IMAGE_TOO_LARGE' });
    const junk = Buffer.from('not an image at all');
    await expect(commands.showStill('left-canva', junk, 10_000, HTTP)).rejects.toMatchObject({ code: 'EASEL_ERR_UNSUPPORTED_MEDIA' });
    const missing = path.join(dir, 'missing.png');
    await expect(commands.setSource('left-canva', { type: 'still', path: missing }, HTTP)).rejects.toMatchObject({
      code: 'EASEL_ERR_REQUEST_INVALID',
      details: { field: 'path' },
    });
    expect(commands.get('left-canva').source.kind).toBe('folder');
    expect(heard).toEqual([]);
  });

  it('within the limits are shown and held, and announced with their id', async () => {
    const { commands, commandsHeard, run } = await setUp();
    await run(500);
    const { imageId } = await commands.showStill('left-canva', await solidPng('#00ff00', 32, 32), Infinity, HTTP);
    expect(imageId).toMatch(/^u-/);
    expect(commandsHeard()).toEqual([
      { type: 'command', slug: 'left-canva', command: 'image', origin: HTTP, detail: { imageId, holdMs: null } },
    ]);
  });
});
