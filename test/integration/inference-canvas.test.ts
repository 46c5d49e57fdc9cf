import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDevInferenceService } from '../../tools/inference-dev.js';
import { DisplayClient, type ReceivedFrame } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder } from '../support/server.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(service: Parameters<typeof startDevInferenceService>[0], env: Record<string, string> = {}) {
  const dev = await startDevInferenceService(service);
  cleanups.push(() => dev.close({ force: true }));
  const fallback = tempFolder();
  cleanups.push(fallback.remove);
  putImage(fallback.dir, 'a-fallback.png', await solidPng('#808080'));
  putImage(fallback.dir, 'b-fallback.png', await solidPng('#404040'));
  const server = await startTestServer({
    EASEL_INFERENCE_ENDPOINTS: dev.address,
    EASEL_FALLBACK_FOLDER: fallback.dir,
    EASEL_INFERENCE_WIDTH: '256',
    EASEL_INFERENCE_HEIGHT: '256',
    ...env,
  });
  cleanups.push(() => server.close());
  const display = new DisplayClient(server.ws('gen'));
  cleanups.push(() => display.close());
  await display.opened;
  return { dev, server, display };
}

const gaps = (frames: ReceivedFrame[]) => frames.slice(1).map((f, i) => f.at - frames[i]!.at);

describe('a canvas fed by the inference service', () => {
  it('streams generated frames to displays at 4 FPS', async () => {
    const { display } = await setup({ latencyMs: 60 });
    await vi.waitFor(() => expect(display.frames.filter((f) => f.header.source === 'inference').length).toBeGreaterThan(2), {
      timeout: 5000,
    });
    await new Promise((r) => setTimeout(r, 3300));
    const recent = display.framesWithin(3000);
    expect(recent.length).toBeGreaterThanOrEqual(11);
    expect(recent.length).toBeLessThanOrEqual(13);
    expect(recent.every((f) => f.header.source === 'inference' && f.header.prompt)).toBe(true);
    expect(new Set(recent.map((f) => f.header.imageId)).size).toBe(recent.length);
    expect((await sharp(recent[0]!.image).metadata()).width).toBe(256);
  });

  it('holds, never sending a frame twice, when the service is slower than the canvas', async () => {
    const { display } = await setup({ latencyMs: 1000 });
    await new Promise((r) => setTimeout(r, 4500));
    const ids = display.frames.map((f) => f.header.imageId);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(ids.length).toBeLessThanOrEqual(6);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('cancels the running call on a prompt change and shows the new prompt within two seconds', async () => {
    const { dev, server, display } = await setup({ latencyMs: 150 });
    await vi.waitFor(() => expect(display.frames.some((f) => f.header.source === 'inference')).toBe(true), { timeout: 5000 });
    await vi.waitFor(() => expect(dev.stats.active).toBe(1), { timeout: 5000 }); // a batch in flight
    const cancelledBefore = dev.stats.cancellations;
    const changedAt = performance.now();
    expect(server.server.registry.setPrompt('gen', 'a lighthouse in fog')).toBe(true);
    await vi.waitFor(() => expect(display.frames.at(-1)!.header.prompt).toBe('a lighthouse in fog'), { timeout: 2000, interval: 20 });
    expect(performance.now() - changedAt).toBeLessThan(2000);
    await vi.waitFor(() => expect(dev.stats.cancellations).toBeGreaterThan(cancelledBefore), { timeout: 5000 });
    const afterChange = display.frames.slice(display.frames.findIndex((f) => f.header.prompt === 'a lighthouse in fog'));
    expect(afterChange.every((f) => f.header.prompt === 'a lighthouse in fog')).toBe(true);
  });

  it('switches to the fallback folder when the service dies, without a gap, and resumes when it is back', async () => {
    const { dev, display } = await setup({ latencyMs: 60 }, { EASEL_INFERENCE_BUFFER_SECONDS: '1' });
    await vi.waitFor(() => expect(display.frames.filter((f) => f.header.source === 'inference').length).toBeGreaterThan(4), {
      timeout: 5000,
    });
    const port = dev.port;
    const killedAt = performance.now();
    await dev.close({ force: true });
    await vi.waitFor(() => expect(display.frames.at(-1)!.header.source).toBe('folder'), { timeout: 5000, interval: 20 });
    await new Promise((r) => setTimeout(r, 750));
    const around = display.frames.filter((f) => f.at >= killedAt - 1000);
    // Never more than one slot without a frame: every gap stays under two periods.
    expect(Math.max(...gaps(around))).toBeLessThan(480);

    const again = await startDevInferenceService({ port, latencyMs: 60 });
    cleanups.push(() => again.close({ force: true }));
    await vi.waitFor(() => expect(display.frames.at(-1)!.header.source).toBe('inference'), { timeout: 15_000, interval: 50 });
  });

  it('skips images that do not decode and keeps streaming good ones', async () => {
    const { server, display } = await setup({ latencyMs: 40, garbageRate: 0.5, faultSeed: 7 });
    await vi.waitFor(() => expect(display.frames.filter((f) => f.header.source === 'inference').length).toBeGreaterThan(6), {
      timeout: 8000,
    });
    for (const f of display.frames) expect((await sharp(f.image).metadata()).format).toBe('webp');
    const details = server.server.registry.get('gen')!.snapshot().source.details!;
    expect(details.skippedImages).toBeGreaterThan(0);
  });
});

describe('a prompt the service refuses', () => {
  it('fails its job with the service reason, and the canvas keeps showing its fallback', async () => {
    const { server, display } = await setup({ latencyMs: 40 }, { EASEL_INFERENCE_WIDTH: '100' });
    const job = await server.server.commands.setPrompt('gen', { prompt: 'an odd size' }, { via: 'http' });
    await vi.waitFor(
      () => expect(server.server.commands.job(job.id)).toMatchObject({ state: 'failed', reason: expect.stringContaining('width 100') }),
      { timeout: 8000 },
    );
    await vi.waitFor(() => expect(display.frames.at(-1)?.header.source).toBe('folder'), { timeout: 5000 });
  });
});
