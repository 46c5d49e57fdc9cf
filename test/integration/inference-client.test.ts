/**
 * The inference client against the dev inference service over real gRPC on ephemeral
 * loopback ports: streaming, cancellation the service observes, deadlines, error mapping,
 * load spread over two endpoints, and reconnection on the backoff schedule.
 */
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startDevInferenceService, type DevInferenceService, type DevInferenceServiceOptions } from '../../tools/inference-dev.js';
import { isEaselError } from '../../server/errors.js';
import {
  createInferenceClient,
  type InferenceClient,
  type InferenceClientOptions,
  type InferenceImage,
} from '../../server/inference/client.js';
import { FakeClock } from '../support/fake-clock.js';
import { captureLogs } from '../support/log-capture.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  // Clients first, so no call is left for a graceful shutdown to wait on.
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function service(options: DevInferenceServiceOptions = {}): Promise<DevInferenceService> {
  const started = await startDevInferenceService({ latencyMs: 0, ...options });
  cleanups.push(() => started.close({ force: true }));
  return started;
}

function client(endpoints: string[], options: Partial<InferenceClientOptions> = {}) {
  const { logger, lines } = captureLogs();
  const created = createInferenceClient({ endpoints, logger, backoff: { initialMs: 50, maxMs: 200 }, ...options });
  cleanups.push(() => created.close());
  return { client: created, lines };
}

async function whenUp(c: InferenceClient, count = 1): Promise<void> {
  await vi.waitFor(() => expect(c.status().endpoints.filter((e) => e.state === 'up')).toHaveLength(count));
}

async function collect(images: AsyncIterable<InferenceImage>): Promise<InferenceImage[]> {
  const all: InferenceImage[] = [];
  for await (const image of images) all.push(image);
  return all;
}

async function failure(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => expect.fail('expected the call to fail'),
    (err: unknown) => err,
  );
}

const small = { width: 64, height: 64 };

describe('inference client over real gRPC', () => {
  it('streams every image of a batch in order, each a JPEG of the asked size', async () => {
    const dev = await service();
    const { client: c } = client([dev.address]);
    await whenUp(c);
    const images = await collect(c.generate({ prompt: 'a lighthouse', numImages: 3, seed: 10, ...small }));
    expect(images.map((i) => [i.index, i.seed])).toEqual([
      [0, 10],
      [1, 11],
      [2, 12],
    ]);
    expect(new Set(images.map((i) => i.requestId)).size).toBe(1);
    for (const image of images) {
      expect(image).toMatchObject({ mime: 'image/jpeg', width: 64, height: 64, endpoint: dev.address });
      expect(await sharp(image.data).metadata()).toMatchObject({ format: 'jpeg', width: 64, height: 64 });
    }
  });

  it('answers GetInfo with the model and its limits', async () => {
    const dev = await service({ maxBatch: 6 });
    const { client: c } = client([dev.address]);
    const info = await c.getInfo();
    expect(info).toMatchObject({ modelName: 'easel-dev-procedural', maxBatch: 6, maxInferenceSteps: 4, endpoint: dev.address });
    expect(info.supportedSizes[0]).toEqual({ width: 512, height: 512 });
  });

  it('cancels the call on the service when the signal aborts, and the service stops', async () => {
    const dev = await service({ latencyMs: 30 });
    const { client: c } = client([dev.address]);
    const controller = new AbortController();
    const seen: number[] = [];
    const run = (async () => {
      for await (const image of c.generate({ prompt: 'stop me', numImages: 8, ...small }, { signal: controller.signal })) {
        seen.push(image.index);
        controller.abort(new Error('prompt changed'));
      }
    })();
    await expect(run).rejects.toThrow('prompt changed');
    await vi.waitFor(() => expect(dev.stats.cancellations).toBe(1));
    expect(dev.stats.recent[0]).toMatchObject({ prompt: 'stop me', outcome: 'cancelled' });
    expect(dev.stats.recent[0]!.images).toBeLessThan(8);
    expect(seen).toEqual([0]);
    await vi.waitFor(() => expect(dev.stats.active).toBe(0));
  });

  it('cancels the call on the service when the caller stops reading early', async () => {
    const dev = await service({ latencyMs: 30 });
    const { client: c } = client([dev.address]);
    for await (const image of c.generate({ prompt: 'just one', numImages: 8, ...small })) {
      expect(image.index).toBe(0);
      break;
    }
    await vi.waitFor(() => expect(dev.stats.cancellations).toBe(1));
  });

  it('ends a hung call at its deadline with EASEL_ERR_INFERENCE_TIMEOUT', async () => {
    const dev = await service({ hangRate: 1 });
    const { client: c } = client([dev.address]);
    const err = await failure(collect(c.generate({ prompt: 'hang', ...small }, { deadlineMs: 300 })));
    expect(isEaselError(err, 'EASEL_ERR_INFERENCE_TIMEOUT')).toBe(true);
    await vi.waitFor(() => expect(dev.stats.cancellations).toBe(1));
  });

  it('maps service errors to catalog codes with hints', async () => {
    const failing = await service({ errorRate: 1 });
    const { client: c } = client([failing.address]);
    const internal = await failure(collect(c.generate({ prompt: 'fail', ...small })));
    expect(internal).toMatchObject({ code: 'EASEL_ERR_INFERENCE_FAILED', details: { grpcCode: 'INTERNAL' } });
    expect((internal as Error).message).toContain('Injected fault');

    const rejected = await failure(collect(c.generate({ prompt: 'odd size', width: 100, height: 64 })));
    expect(rejected).toMatchObject({ code: 'EASEL_ERR_INFERENCE_REJECTED', details: { grpcCode: 'INVALID_ARGUMENT' } });
    expect((rejected as Error).message).toContain('width 100 is not allowed');
  });

  it('spreads calls over two endpoints and keeps serving on one when the other goes down', async () => {
    const [a, b] = await Promise.all([service({ latencyMs: 50 }), service({ latencyMs: 50 })]);
    const { client: c } = client([a.address, b.address]);
    await whenUp(c, 2);
    await Promise.all([1, 2, 3, 4].map(() => collect(c.generate({ prompt: 'shared', ...small }))));
    expect([a.stats.calls, b.stats.calls]).toEqual([2, 2]);

    await a.close({ force: true });
    const batches = await Promise.all([1, 2, 3, 4].map(() => collect(c.generate({ prompt: 'survivor', ...small }))));
    expect(batches.flat()).toHaveLength(4);
    expect(b.stats.calls).toBe(6);
    await vi.waitFor(() => expect(c.status().state).toBe('degraded'));
    expect(c.status().reason).toContain(`"${a.address}"`);
  });

  it('marks an endpoint down while it reports NOT_SERVING and fails fast meanwhile', async () => {
    const dev = await service();
    const { client: c } = client([dev.address]);
    await whenUp(c);
    dev.setServing(false);
    await vi.waitFor(() => expect(c.status().state).toBe('down'));
    expect(c.status().endpoints[0]!.reason).toContain('NOT_SERVING');
    const err = await failure(collect(c.generate({ prompt: 'wait', ...small })));
    expect(err).toMatchObject({ code: 'EASEL_ERR_INFERENCE_UNAVAILABLE' });
    expect(dev.stats.calls).toBe(0);
    dev.setServing(true);
    await whenUp(c);
  });

  it('reconnects on the backoff schedule and is up again when the service returns', async () => {
    const first = await startDevInferenceService({ latencyMs: 0 });
    const { port, address } = first;
    await first.close({ force: true });
    const clock = new FakeClock();
    const retries = vi.spyOn(clock, 'setTimeout');
    const { client: c, lines } = client([address], { clock, random: () => 0.5, backoff: { initialMs: 100, factor: 2, maxMs: 400 } });

    for (let attempt = 1; attempt <= 4; attempt += 1) {
      await vi.waitFor(() => expect(retries).toHaveBeenCalledTimes(attempt));
      clock.advance(retries.mock.calls[attempt - 1]![1]);
    }
    await vi.waitFor(() => expect(retries).toHaveBeenCalledTimes(5));
    expect(retries.mock.calls.map((call) => call[1])).toEqual([100, 200, 400, 400, 400]);
    expect(c.status()).toMatchObject({ state: 'down', endpoints: [{ state: 'down', retries: 5 }] });
    expect(c.status().endpoints[0]!.reason).toMatch(/^cannot connect: /);

    await service({ port });
    clock.advance(400);
    await whenUp(c);
    expect(lines.filter((l) => l.msg === 'Inference endpoint is down')).toHaveLength(1);
    expect(lines.filter((l) => l.msg === 'Inference endpoint is up')).toHaveLength(1);
    expect(await collect(c.generate({ prompt: 'back again', ...small }))).toHaveLength(1);
  });

  it('sees a graceful stop of the service: running calls end UNAVAILABLE and the endpoint goes down', async () => {
    const dev = await startDevInferenceService({ hangRate: 1 });
    const { client: c } = client([dev.address]);
    await whenUp(c);
    const running = failure(collect(c.generate({ prompt: 'hang', ...small })));
    await vi.waitFor(() => expect(dev.stats.active).toBe(1));
    await dev.close();
    expect(await running).toMatchObject({ code: 'EASEL_ERR_INFERENCE_UNAVAILABLE', details: { grpcCode: 'UNAVAILABLE' } });
    await vi.waitFor(() => expect(c.status().state).toBe('down'));
  });

  it('close() cancels the calls in flight and can be called twice', async () => {
    const dev = await service({ hangRate: 1 });
    const { client: c } = client([dev.address]);
    const running = failure(collect(c.generate({ prompt: 'hang', ...small })));
    await vi.waitFor(() => expect(dev.stats.active).toBe(1));
    await Promise.all([c.close(), c.close()]);
    expect(await running).toMatchObject({ code: 'EASEL_ERR_INFERENCE_UNAVAILABLE', message: 'Inference client is closed' });
    await vi.waitFor(() => expect(dev.stats.cancellations).toBe(1));
  });
});
