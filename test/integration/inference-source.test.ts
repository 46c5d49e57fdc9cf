/**
 * The inference source fed by the dev inference service over real gRPC: frames flow, garbage
 * is skipped, a prompt change cancels the call on the service, and an outage is reported and
 * recovered from without help.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDevInferenceService, type DevInferenceServiceOptions } from '../../tools/inference-dev.js';
import { createInferenceClient } from '../../server/inference/client.js';
import { createInferenceSource, type InferenceSourceOptions } from '../../server/stream/inference-source.js';
import type { SourceImage } from '../../server/stream/source.js';
import { captureLogs } from '../support/log-capture.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function service(options: DevInferenceServiceOptions = {}) {
  const started = await startDevInferenceService({ latencyMs: 5, ...options });
  cleanups.push(() => started.close({ force: true }));
  return started;
}

function source(address: string, options: Partial<InferenceSourceOptions> = {}) {
  const { logger, lines } = captureLogs();
  const client = createInferenceClient({ endpoints: [address], logger, backoff: { initialMs: 50, maxMs: 200 } });
  cleanups.push(() => client.close());
  const created = createInferenceSource({
    client,
    logger,
    prompt: 'a foggy harbour',
    promptOptions: { width: 64, height: 64 },
    backoff: { initialMs: 50, maxMs: 200 },
    ...options,
  });
  cleanups.push(() => created.close());
  return { source: created, lines };
}

async function take(s: { next(signal: AbortSignal): Promise<SourceImage> }, count: number): Promise<SourceImage[]> {
  const images: SourceImage[] = [];
  for (let i = 0; i < count; i += 1) images.push(await s.next(AbortSignal.timeout(10_000)));
  return images;
}

describe('inference source with the dev inference service', () => {
  it('hands out generated frames of the prompt, each a distinct decodable image', async () => {
    const dev = await service();
    const { source: s } = source(dev.address);
    const images = await take(s, 6);
    expect(new Set(images.map((i) => i.id)).size).toBe(6);
    for (const image of images) {
      expect(image).toMatchObject({ source: 'inference', prompt: 'a foggy harbour' });
      expect(await sharp(image.data).metadata()).toMatchObject({ width: 64, height: 64 });
    }
    expect(s.status().state).toBe('ok');
    // Refilled past the low-water mark (1.5 s at 4 FPS), then no call until it runs low again;
    // never more than the buffer's 3 seconds.
    await vi.waitFor(() => expect(s.status().details).toMatchObject({ calling: false }));
    const { buffered } = s.status().details as { buffered: number };
    expect(buffered).toBeGreaterThan(6);
    expect(buffered).toBeLessThanOrEqual(12);
  });

  it('skips bytes that are not an image and counts them', async () => {
    const dev = await service({ garbageRate: 0.5, faultSeed: 7 });
    const { source: s, lines } = source(dev.address);
    const images = await take(s, 8);
    for (const image of images) await expect(sharp(image.data).metadata()).resolves.toBeDefined();
    expect(dev.stats.garbage).toBeGreaterThan(0);
    await vi.waitFor(() => expect(s.status().details).toMatchObject({ skippedImages: dev.stats.garbage }));
    expect(lines.filter((l) => l.msg === 'Skipping generated images that do not decode (counted in the canvas status)')).toHaveLength(1);
  });

  it('cancels the running call on the service when the prompt changes', async () => {
    // Eight images at 300 ms each: the first call is still running when the prompt changes.
    const dev = await service({ latencyMs: 300 });
    const { source: s } = source(dev.address, { maxBatch: 8 });
    await take(s, 1);
    s.setPrompt('a harbour at night', { width: 64, height: 64 });
    await vi.waitFor(() => expect(dev.stats.cancellations).toBe(1));
    expect(dev.stats.recent[0]).toMatchObject({ prompt: 'a foggy harbour', outcome: 'cancelled' });
    const [next] = await take(s, 1);
    expect(next!.prompt).toBe('a harbour at night');
  });

  it('says the service is unreachable, logs it once, and resumes when it is back', async () => {
    const dev = await service();
    const { port } = dev;
    const { source: s, lines } = source(dev.address, { bufferSeconds: 1, lowWaterSeconds: 0.5 });
    await take(s, 2);
    await dev.close({ force: true });
    // Drain what was buffered; then the source has to call the (dead) service.
    await vi.waitFor(async () => {
      await s.next(AbortSignal.timeout(50)).catch(() => {});
      expect(s.status().state).toBe('degraded');
    });
    const status = s.status();
    expect(status.reason).toMatch(/unavailable|No inference endpoint is up/);
    expect(status.hint).toContain('inference');
    expect(status.details).toMatchObject({ code: 'EASEL_ERR_INFERENCE_UNAVAILABLE' });

    await service({ port });
    const [image] = await take(s, 1);
    expect(image!.prompt).toBe('a foggy harbour');
    await vi.waitFor(() => expect(s.status().state).toBe('ok'));
    const warned = lines.filter((l) => l.msg === 'Inference source cannot generate; retrying with backoff');
    expect(warned).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'Inference source is generating again')).toHaveLength(1);
  });
});
