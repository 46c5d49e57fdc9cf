import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createFakeInferenceClient } from '../../test/support/fake-inference-client.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { EaselError } from '../errors.js';
import { createInferenceSource, type InferenceSourceOptions } from './inference-source.js';

const GARBAGE = Buffer.from('garbage bytes');
// Stands in for sharp's header check, so every step here is a microtask and nothing sleeps.
const probe = async (data: Buffer) => {
  if (data.equals(GARBAGE)) throw new Error('Input buffer contains unsupported image format');
};

const unavailable = () =>
  new EaselError('EASEL_ERR_INFERENCE_UNAVAILABLE', 'No inference endpoint is up: "gpu:50051" cannot connect', {
    hint: 'Start the inference service',
  });

function setup(overrides: Partial<InferenceSourceOptions> = {}, { started = true } = {}) {
  const fake = createFakeInferenceClient();
  const clock = new FakeClock();
  const { logger, lines } = captureLogs();
  const source = createInferenceSource({
    client: fake,
    logger,
    clock,
    probe,
    prompt: 'a foggy harbour',
    fps: 4,
    bufferSeconds: 3,
    lowWaterSeconds: 1.5,
    maxBatch: 4,
    backoff: { initialMs: 100, factor: 2, maxMs: 1000, jitter: 0 },
    random: () => 0.25,
    ...overrides,
  });
  sources.push(source);
  if (started) begin(source);
  return { fake, calls: fake.calls, clock, lines, source };
}

/** As a canvas's first slot does: asks for a frame, which starts generation (then gives up waiting). */
function begin(source: { next(signal: AbortSignal): Promise<unknown> }): void {
  const first = new AbortController();
  source.next(first.signal).catch(() => undefined);
  first.abort();
}

const sources: Array<{ close(): Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(sources.splice(0).map((s) => s.close()));
});

const signal = () => new AbortController().signal;
/** Lets every pending microtask and promise chain run. */
const settle = async () => {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
};

describe('createInferenceSource', () => {
  it('asks the service for nothing until a frame is asked for: a canvas nobody watches costs no GPU', async () => {
    const { calls, source, clock } = setup({}, { started: false });
    clock.advance(10_000);
    await settle();
    expect(calls).toHaveLength(0);
    expect(source.available?.()).toBe(0);
    begin(source);
    await settle();
    expect(calls).toHaveLength(1);
  });

  it('asks for a batch at once and waits for its first image', async () => {
    const { calls, source } = setup();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]!.request).toMatchObject({ prompt: 'a foggy harbour', numImages: 4 });
    expect(source.status().state).toBe('waiting');
    const first = source.next(signal());
    calls[0]!.send(1);
    const image = await first;
    expect(image).toMatchObject({ source: 'inference', prompt: 'a foggy harbour' });
    expect(source.status().state).toBe('ok');
  });

  it('keeps one call in flight and asks again only when the buffer runs low', async () => {
    const { calls, source } = setup();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]!.send(4);
    calls[0]!.end();
    // 4 buffered is below the low-water mark of 6 (1.5 s at 4 FPS): the next batch fills to 8.
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.request.numImages).toBe(4);
    calls[1]!.send(4);
    calls[1]!.end();
    await settle();
    expect(source.status().details).toMatchObject({ buffered: 8, capacity: 12, calling: false });
    expect(calls).toHaveLength(2);
    await source.next(signal());
    await settle();
    expect(calls).toHaveLength(2);
    await source.next(signal());
    // Down to 6: time for more, and only as many as fit in the 12-frame buffer.
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    expect(calls[2]!.request.numImages).toBe(4);
  });

  it('cancels the call in flight and drops old frames when the prompt changes', async () => {
    const { calls, source } = setup();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]!.send(2);
    await vi.waitFor(() => expect(source.status().details).toMatchObject({ buffered: 2 }));
    source.setPrompt('a harbour at night', { width: 768, height: 512 });
    expect(calls[0]!.signal.aborted).toBe(true);
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.request).toMatchObject({ prompt: 'a harbour at night', width: 768, height: 512 });
    expect(source.status().details).toMatchObject({ buffered: 0, prompt: 'a harbour at night' });
    const next = source.next(signal());
    calls[1]!.send(1);
    expect((await next).prompt).toBe('a harbour at night');
  });

  it('skips images that do not decode, counts them and logs once', async () => {
    const { calls, source, lines } = setup();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]!.send(2, GARBAGE);
    calls[0]!.send(1);
    calls[0]!.send(1, GARBAGE);
    calls[0]!.end();
    await vi.waitFor(() => expect(source.status().details).toMatchObject({ skippedImages: 3, buffered: 1 }));
    expect(source.status().state).toBe('ok');
    const warnings = lines.filter((l) => l.msg === 'Skipping generated images that do not decode (counted in the canvas status)');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.err).toMatchObject({ code: 'EASEL_ERR_INFERENCE_BAD_IMAGE' });
  });

  it('reports an unreachable service in plain words, logs one line, backs off and resumes by itself', async () => {
    const { calls, source, clock, lines } = setup({ stallMs: 60_000 });
    const spy = vi.spyOn(clock, 'setTimeout');
    // The backoff's timers, not the stall watch that looks once a slot (250 ms) during a call.
    const delays = {
      get mock() {
        return { calls: spy.mock.calls.filter((call) => call[1] !== 250) };
      },
    };
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await vi.waitFor(() => expect(calls).toHaveLength(attempt + 1));
      calls[attempt]!.fail(unavailable());
      await vi.waitFor(() => expect(delays.mock.calls).toHaveLength(attempt + 1));
      expect(source.status()).toMatchObject({
        state: 'degraded',
        reason: 'No inference endpoint is up: "gpu:50051" cannot connect',
        hint: 'Start the inference service',
        details: { code: 'EASEL_ERR_INFERENCE_UNAVAILABLE' },
      });
      // Nothing is asked while backing off.
      await settle();
      expect(calls).toHaveLength(attempt + 1);
      clock.advance(delays.mock.calls[attempt]![1]);
    }
    expect(delays.mock.calls.map((call) => call[1])).toEqual([100, 200, 400, 800]);
    expect(lines.filter((l) => l.level === 40)).toHaveLength(1);

    await vi.waitFor(() => expect(calls).toHaveLength(5));
    const next = source.next(signal());
    calls[4]!.send(1);
    await next;
    expect(source.status().state).toBe('ok');
    expect(lines.filter((l) => l.msg === 'Inference source is generating again')).toHaveLength(1);
  });

  it('retries at once when the client says an endpoint is back, without waiting out the backoff', async () => {
    const { fake, calls, source, clock } = setup({ backoff: { initialMs: 10_000, jitter: 0 } });
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]!.fail(unavailable());
    await vi.waitFor(() => expect(source.status().state).toBe('degraded'));
    expect(clock.pendingTimers).toBe(1);
    fake.emitChange('up');
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    // The 10 s backoff timer is gone; what is left is the new call's stall watch.
    expect(clock.pendingTimers).toBe(1);
  });

  it('gives each image a new seed, and walks seeds from a given start', async () => {
    const { calls, source } = setup({
      random: (() => {
        let n = 0;
        return () => (n += 0.1);
      })(),
    });
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]!.send(4);
    calls[0]!.end();
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.request.seed).not.toBe(calls[0]!.request.seed);

    source.setPrompt('a walk', { seed: 42 });
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    expect(calls[2]!.request.seed).toBe(42);
    calls[2]!.send(3);
    calls[2]!.end();
    await vi.waitFor(() => expect(calls).toHaveLength(4));
    expect(calls[3]!.request.seed).toBe(45);
  });

  it('drifts: each call starts from the image generated before it', async () => {
    const { calls } = setup({ promptOptions: { drift: { strength: 0.5 } } });
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]!.request).toMatchObject({ numImages: 1 });
    expect(calls[0]!.request.initImage).toBeUndefined();
    const first = Buffer.from('first picture');
    calls[0]!.send(1, first);
    calls[0]!.end();
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.request).toMatchObject({ numImages: 1, strength: 0.5, numInferenceSteps: 2 });
    expect(calls[1]!.request.initImage).toBe(first);
  });

  it('on close, cancels the call, rejects a waiting next() and is idempotent', async () => {
    const { calls, source } = setup();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    const waiting = source.next(signal());
    const closing = source.close();
    expect(source.close()).toBe(closing);
    await closing;
    expect(calls[0]!.signal.aborted).toBe(true);
    await expect(waiting).rejects.toThrow('The inference source is closed');
    await expect(source.next(signal())).rejects.toThrow('closed');
  });

  it('rejects next() with the signal reason when the canvas aborts', async () => {
    const { source } = setup();
    const controller = new AbortController();
    const waiting = source.next(controller.signal);
    controller.abort(new Error('canvas paused'));
    await expect(waiting).rejects.toThrow('canvas paused');
  });
});

describe('an inference service that is up but sends no image', () => {
  it('cancels a call that brings nothing for the stall limit, long before the deadline, and reports it', async () => {
    const { calls, source, clock, lines } = setup({ stallMs: 3000 });
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    clock.advance(2999);
    await settle();
    expect(calls[0]!.signal.aborted).toBe(false);
    expect(source.status().state).toBe('waiting');
    clock.advance(1);
    await vi.waitFor(() => expect(source.status().state).toBe('degraded'));
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(source.status()).toMatchObject({
      code: 'EASEL_ERR_INFERENCE_STALLED',
      reason: 'Inference service sent no image for 3 s',
      hint: expect.stringContaining('inference.stallMs above 3000'),
    });
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.err).toMatchObject({ code: 'EASEL_ERR_INFERENCE_STALLED' });

    // It keeps trying: a new call after the backoff, which may answer.
    clock.advance(100);
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    const next = source.next(signal());
    calls[1]!.send(1);
    await next;
    expect(source.status().state).toBe('ok');
  });

  it('waits while buffered frames last, and stalls once they are gone', async () => {
    const { calls, source, clock } = setup({ stallMs: 3000 });
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]!.send(4);
    calls[0]!.end();
    await vi.waitFor(() => expect(calls).toHaveLength(2)); // 4 buffered is below low water
    // The second call hangs; the screen takes a frame every 250 ms and has 4.
    for (let slot = 0; slot < 4; slot += 1) {
      clock.advance(250);
      await source.next(signal());
    }
    await settle();
    expect(calls[1]!.signal.aborted).toBe(false); // dry since 1 s, but 3 s have not passed
    clock.advance(1750);
    await settle();
    expect(calls[1]!.signal.aborted).toBe(false);
    clock.advance(250);
    await vi.waitFor(() => expect(source.status()).toMatchObject({ state: 'degraded', code: 'EASEL_ERR_INFERENCE_STALLED' }));
    expect(calls[1]!.signal.aborted).toBe(true);
  });

  it('never stalls while frames are still buffered', async () => {
    const { calls, clock } = setup({ stallMs: 1000 });
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]!.send(4);
    calls[0]!.end();
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    clock.advance(10_000); // nobody takes the 4 frames: nothing is frozen
    await settle();
    expect(calls[1]!.signal.aborted).toBe(false);
  });

  it('gives the next call longer after each stall in a row (up to 4x), so a slow GPU still gets through', async () => {
    const { calls, source, clock } = setup({ stallMs: 1000, backoff: { initialMs: 100, factor: 1, jitter: 0 } });
    const stalledAfter: number[] = [];
    for (let attempt = 0; attempt < 4; attempt += 1) {
      await vi.waitFor(() => expect(calls).toHaveLength(attempt + 1));
      const started = clock.now();
      while (!calls[attempt]!.signal.aborted) {
        clock.advance(250);
        await settle();
      }
      stalledAfter.push(clock.now() - started);
      await vi.waitFor(() => expect(source.status().state).toBe('degraded'));
      clock.advance(100);
    }
    expect(stalledAfter).toEqual([1000, 2000, 4000, 4000]);
    // A usable image resets the limit at once, even for the call that brought it.
    await vi.waitFor(() => expect(calls).toHaveLength(5));
    calls[4]!.send(1);
    await source.next(signal());
    const started = clock.now();
    while (!calls[4]!.signal.aborted) {
      clock.advance(250);
      await settle();
    }
    expect(clock.now() - started).toBe(1000);
  });

  it('treats a run of undecodable images as the service failing, and cancels that call', async () => {
    const { calls, source } = setup({ badImageLimit: 4 });
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]!.send(3, GARBAGE);
    calls[0]!.send(1);
    calls[0]!.send(3, GARBAGE); // 3 in a row: still skipped one by one
    await vi.waitFor(() => expect(source.status().details).toMatchObject({ skippedImages: 6 }));
    expect(calls[0]!.signal.aborted).toBe(false);
    expect(calls[0]!.settled).toBe(false);
    calls[0]!.send(1, GARBAGE);
    await vi.waitFor(() =>
      expect(source.status()).toMatchObject({
        state: 'degraded',
        code: 'EASEL_ERR_INFERENCE_BAD_IMAGE',
        reason: expect.stringContaining('4 images in a row'),
      }),
    );
    expect(calls[0]!.settled).toBe(true);
  });

  it('carries the job of its prompt on each image and on a refusal, never to the service', async () => {
    const { calls, source } = setup();
    const refusals: unknown[] = [];
    source.onRefused((r) => refusals.push(r));
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    source.setPrompt('a harbour at night', { job: 'job-1' });
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.request).not.toHaveProperty('job');
    const first = source.next(signal());
    calls[1]!.send(1);
    expect(await first).toMatchObject({ prompt: 'a harbour at night', job: 'job-1' });
    calls[1]!.fail(new EaselError('EASEL_ERR_INFERENCE_REJECTED', 'width 100 is not a multiple of 64', { hint: 'Use 64-pixel steps' }));
    await vi.waitFor(() => expect(refusals).toEqual([{ job: 'job-1', reason: 'width 100 is not a multiple of 64' }]));
    expect(source.status().state).toBe('failed');
  });

  it('says on each image what made it (for the archive), sending the playlist step to no service', async () => {
    const { calls, source } = setup();
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    const playlist = { name: 'evening-show', step: 2 };
    source.setPrompt('a harbour at night', {
      negativePrompt: 'text',
      numInferenceSteps: 2,
      guidanceScale: 0,
      seed: 42,
      drift: { strength: 0.5 },
      playlist,
    });
    await vi.waitFor(() => expect(calls).toHaveLength(2));
    expect(calls[1]!.request).not.toHaveProperty('playlist');
    const first = source.next(signal());
    calls[1]!.send(1);
    calls[1]!.end();
    // The first image of a drift has nothing to start from: no strength yet.
    expect(await first).toMatchObject({
      playlist,
      generation: { negativePrompt: 'text', steps: 2, guidance: 0, seed: 42, endpoint: 'fake:1' },
    });
    expect((await first).generation).not.toHaveProperty('strength');
    await vi.waitFor(() => expect(calls).toHaveLength(3));
    const second = source.next(signal());
    calls[2]!.send(1);
    expect((await second).generation).toEqual({
      negativePrompt: 'text',
      steps: 2,
      guidance: 0,
      strength: 0.5,
      seed: 43,
      endpoint: 'fake:1',
    });
  });

  it('tells no one of a failure that may pass', async () => {
    const { calls, source } = setup();
    const refusals: unknown[] = [];
    source.onRefused((r) => refusals.push(r));
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    calls[0]!.fail(unavailable());
    await vi.waitFor(() => expect(source.status().state).toBe('degraded'));
    expect(refusals).toEqual([]);
  });
});
