/**
 * The `inference` source: frames an image model makes live from the canvas's prompt. It keeps
 * a bounded buffer of about three seconds of frames, asks the inference service for a batch
 * only when the buffer runs low, and has at most one call in flight, so a GPU's bursts become
 * an even stream for the pacer and a canvas never queues work it may throw away.
 */
import type { GenerationFacts, PlaylistFacts } from '../archive/archive-entry.js';
import { EaselError, isEaselError } from '../errors.js';
import { createBackoff, delay, type BackoffOptions } from '../inference/backoff.js';
import type { InferenceClient, InferenceImage, InferenceRequest } from '../inference/client.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from './clock.js';
import { createImageCheck } from './generated-image-check.js';
import type { Source, SourceImage, SourceStatus } from './source.js';
import { watchForStall, type StallWatch } from './stall-watch.js';
import { createWaitingQueue } from './waiting-queue.js';

/** What to generate; everything but the prompt falls back to the service's defaults. */
export interface PromptOptions {
  negativePrompt?: string;
  width?: number;
  height?: number;
  numInferenceSteps?: number;
  guidanceScale?: number;
  /** First seed: with it, seeds walk up from here (reproducible); without it, seeds are random. */
  seed?: number;
  /**
   * img2img evolution: each image starts from the one generated before it, changed by
   * `strength` (0..1), so the picture drifts instead of jumping. Off when absent.
   */
  drift?: { strength: number };
  /** The job this prompt is for: carried by its images and by a refusal, never sent to the service. */
  job?: string;
  /** The playlist step this prompt is for: carried by its images (the archive keeps it), never sent. */
  playlist?: PlaylistFacts;
}

/** A prompt the service refuses for good (a bad size, steps): retrying the same request cannot help. */
export interface GenerationRefusal {
  /** The job whose prompt was refused; undefined for a prompt from config. */
  job: string | undefined;
  reason: string;
}

export interface InferenceSourceOptions {
  /**
   * With `onChange`, a source waiting out an outage retries as soon as an endpoint is back,
   * instead of at the end of its backoff delay.
   */
  client: Pick<InferenceClient, 'generate'> & Partial<Pick<InferenceClient, 'onChange' | 'status'>>;
  logger: Logger;
  prompt: string;
  promptOptions?: PromptOptions;
  /** The canvas's frames per second. Default 4. */
  fps?: number;
  /** Buffer size in seconds of frames. Default 3. */
  bufferSeconds?: number;
  /** A new batch is asked for when the buffer holds this many seconds or less. Default 1.5. */
  lowWaterSeconds?: number;
  /** Most images per call. Default 4. */
  maxBatch?: number;
  /** Retry schedule after a failed call. */
  backoff?: BackoffOptions;
  /**
   * With the buffer empty, a call that brought no image for this long is stalled: it is
   * cancelled, the source reports degraded (the canvas shows its fallback) and a new call
   * follows after the backoff. Default: as long as the buffer lasts (bufferSeconds).
   */
  stallMs?: number;
  /** Undecodable images in a row that count as the service failing. Default 4. */
  badImageLimit?: number;
  clock?: Clock;
  random?: () => number;
  /** Rejects when bytes are not an image. Default: sharp reads the header. */
  probe?: (data: Buffer) => Promise<void>;
}

export interface InferenceSource extends Source {
  readonly kind: 'inference';
  /**
   * Switches to a new prompt: cancels the call in flight (the service stops), drops the
   * buffered frames of the old prompt, and starts generating for the new one at once.
   */
  setPrompt(prompt: string, options?: PromptOptions): void;
  /** Calls back each time a request is refused for good; returns the unsubscribe function. */
  onRefused(listener: (refusal: GenerationRefusal) => void): () => void;
}

/**
 * @example
 * const source = createInferenceSource({ client, logger: log.child({ slug }), prompt: 'a foggy harbour' });
 * const image = await source.next(signal);
 * source.setPrompt('a harbour at night', { seed: 42 });
 */
export function createInferenceSource(options: InferenceSourceOptions): InferenceSource {
  const { client, logger: log } = options;
  const fps = options.fps ?? 4;
  const capacity = Math.max(1, Math.round(fps * (options.bufferSeconds ?? 3)));
  const lowWater = Math.min(capacity - 1, Math.ceil(fps * (options.lowWaterSeconds ?? 1.5)));
  const maxBatch = options.maxBatch ?? 4;
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const backoff = createBackoff(options.backoff, random);
  const check = createImageCheck(log, options.probe);
  const slotMs = 1000 / fps;
  const stallMs = options.stallMs ?? (options.bufferSeconds ?? 3) * 1000;
  const badImageLimit = options.badImageLimit ?? 4;

  let prompt = options.prompt;
  let promptOptions: PromptOptions = options.promptOptions ?? {};
  let nextSeed = promptOptions.seed;
  /** The newest image generated: a drifting picture's next init_image. */
  let lastImage: Buffer | undefined;
  let lastShown: SourceImage | undefined;
  const buffer = createWaitingQueue<SourceImage>();
  let call: AbortController | undefined;
  /** Set while waiting out a backoff delay; aborting it retries at once. */
  let pause: AbortController | undefined;
  let poke: (() => void) | undefined;
  let closed = false;
  let problem: EaselError | undefined;
  let generated = 0;
  /** Watches the call in flight. */
  let watch: StallWatch | undefined;
  /** Stalls in a row: each gives the next call longer, so a merely slow GPU still gets through. */
  let stalls = 0;
  /** Undecodable images in a row, across calls. */
  let badRun = 0;
  let status: SourceStatus = { state: 'waiting', reason: `Generating the first images for "${prompt}"` };
  const refusedListeners = new Set<(refusal: GenerationRefusal) => void>();

  const wake = () => {
    poke?.();
    poke = undefined;
  };

  function request(): InferenceRequest {
    const room = capacity - buffer.length;
    const { drift, seed: _seed, job: _job, playlist: _playlist, ...rest } = promptOptions;
    const chained = drift && lastImage ? { initImage: lastImage, strength: drift.strength } : {};
    // SDXL-Turbo needs steps * strength >= 1 for img2img to change anything.
    const steps = drift && lastImage ? (rest.numInferenceSteps ?? Math.min(4, Math.ceil(1 / drift.strength))) : rest.numInferenceSteps;
    return {
      ...rest,
      ...chained,
      prompt,
      numInferenceSteps: steps,
      // Each drifted image must start from the one before it, so those go one per call.
      numImages: drift ? 1 : Math.max(1, Math.min(maxBatch, room)),
      seed: nextSeed ?? Math.floor(random() * 2 ** 32),
    };
  }

  async function generateBatch(signal: AbortSignal, job: string | undefined): Promise<number> {
    const asked = request();
    const { playlist } = promptOptions;
    let good = 0;
    for await (const image of client.generate(asked, { signal })) {
      if (signal.aborted) break;
      // A walk continues after the last seed received, so a cancelled batch leaves no gap.
      if (nextSeed !== undefined) nextSeed = image.seed + 1;
      if (!(await check(image))) {
        badRun += 1;
        if (badRun >= badImageLimit) throw garbageError(badRun, image.endpoint);
        continue;
      }
      if (signal.aborted) break;
      if (good === 0) onSuccess();
      good += 1;
      badRun = 0;
      watch?.progress();
      generated += 1;
      lastImage = image.data;
      buffer.push({
        id: `${image.requestId}/${image.index}`,
        data: image.data,
        source: 'inference',
        createdAt: clock.now(),
        prompt: asked.prompt,
        ...(job !== undefined && { job }),
        generation: generationFacts(asked, image),
        ...(playlist && { playlist }),
      });
    }
    return good;
  }

  /** What made one image, as far as it is known: the service's defaults are left out. */
  function generationFacts(asked: InferenceRequest, image: InferenceImage): GenerationFacts {
    const facts: GenerationFacts = { seed: image.seed, endpoint: image.endpoint };
    if (asked.negativePrompt) facts.negativePrompt = asked.negativePrompt;
    if (asked.numInferenceSteps) facts.steps = asked.numInferenceSteps;
    if (asked.strength !== undefined) facts.strength = asked.strength;
    if (asked.guidanceScale !== undefined) facts.guidance = asked.guidanceScale;
    if (image.model !== undefined) facts.model = image.model;
    return facts;
  }

  const endpointNames = () => {
    const addresses = options.client.status?.().endpoints.map((e) => `"${e.address}"`) ?? [];
    return addresses.length > 0 ? ` at ${addresses.join(', ')}` : '';
  };

  function garbageError(count: number, endpoint: string): EaselError {
    return new EaselError(
      'EASEL_ERR_INFERENCE_BAD_IMAGE',
      `Inference service at "${endpoint}" sent ${count} images in a row that do not decode`,
      {
        hint: `Check the encoder of the service at "${endpoint}": GeneratedImage.data must hold a complete JPEG, PNG or WebP file; Easel shows the fallback folder and retries meanwhile`,
        cause: check.lastError(),
        details: { endpoint, inARow: count },
      },
    );
  }

  function stallError(limitMs: number): EaselError {
    const seconds = Math.round(limitMs / 100) / 10;
    return new EaselError('EASEL_ERR_INFERENCE_STALLED', `Inference service${endpointNames()} sent no image for ${seconds} s`, {
      hint: `Look in the inference service's log for a stuck call; Easel cancels it, shows the fallback folder and retries; if the GPU is only slow, set inference.stallMs above ${Math.round(limitMs)}`,
      details: { stalledForMs: limitMs },
    });
  }

  function onSuccess(): void {
    backoff.reset();
    stalls = 0;
    if (problem) log.info({ prompt }, 'Inference source is generating again');
    problem = undefined;
    status = { state: 'ok' };
  }

  function onFailure(err: unknown, retryInMs: number, job: string | undefined): void {
    const next = isEaselError(err)
      ? err
      : new EaselError('EASEL_ERR_INFERENCE_FAILED', 'Inference failed unexpectedly', {
          hint: 'See the server log for the error',
          cause: err,
        });
    // One line per kind of trouble, not one per retry: the state is in status() meanwhile.
    if (problem?.code !== next.code) log.warn({ err, retryInMs }, 'Inference source cannot generate; retrying with backoff');
    else log.debug({ err: next.message, retryInMs }, 'Inference source retry failed');
    problem = next;
    const lasting = problem.code === 'EASEL_ERR_INFERENCE_REJECTED';
    status = {
      state: lasting ? 'failed' : 'degraded',
      code: problem.code,
      reason: problem.message,
      hint: problem.hint,
      details: { code: problem.code, retryInMs, failures: backoff.attempts },
    };
    if (lasting) {
      const refusal = { job, reason: problem.message };
      for (const listener of [...refusedListeners]) {
        try {
          listener(refusal);
        } catch (listenerErr) {
          log.error({ err: listenerErr }, 'A refusal listener failed');
        }
      }
    }
  }

  async function run(): Promise<void> {
    while (!closed) {
      if (buffer.length > lowWater) {
        await new Promise<void>((resolve) => {
          poke = resolve;
        });
        continue;
      }
      const controller = new AbortController();
      call = controller;
      // Taken now: a refusal belongs to the job that asked, even if the prompt changes meanwhile.
      const job = promptOptions.job;
      watch = watchForStall({
        clock,
        slotMs,
        isDry: () => buffer.length === 0,
        // Each stall in a row gives the next look longer, up to 4x; the first image ends that.
        limitMs: () => stallMs * 2 ** Math.min(stalls, 2),
        onStall: (limitMs) => {
          stalls += 1;
          controller.abort(stallError(limitMs));
        },
      });
      try {
        let good: number;
        try {
          good = await generateBatch(controller.signal, job);
        } finally {
          watch.stop();
          watch = undefined;
        }
        // A stall can land while an image is being checked, which ends the batch without a throw.
        if (isEaselError(controller.signal.reason, 'EASEL_ERR_INFERENCE_STALLED')) throw controller.signal.reason;
        // A call with nothing usable counts as a failure, or a service sending only garbage
        // would be asked again and again without a pause.
        if (good === 0 && !controller.signal.aborted)
          throw (
            check.lastError() ??
            new EaselError('EASEL_ERR_INFERENCE_FAILED', 'Inference call returned no images', { hint: 'Check the inference service log' })
          );
      } catch (caught) {
        const stalled = isEaselError(controller.signal.reason, 'EASEL_ERR_INFERENCE_STALLED');
        if (closed || (controller.signal.aborted && !stalled)) continue;
        const err = stalled ? controller.signal.reason : caught;
        call = undefined;
        const ms = backoff.next();
        onFailure(err, ms, job);
        pause = new AbortController();
        await delay(ms, { signal: pause.signal, clock }).catch(() => {});
        pause = undefined;
      } finally {
        if (call === controller) call = undefined;
      }
    }
  }

  const closedError = () => new DOMException('The inference source is closed', 'AbortError');
  const unsubscribe = client.onChange?.((change) => {
    if (change.state === 'up' || change.state === 'degraded') {
      if (problem?.code === 'EASEL_ERR_INFERENCE_UNAVAILABLE') pause?.abort();
    }
  });
  // Generation begins with the first frame asked for: a canvas nobody watches yet (one a
  // display's upgrade created, a cluster node's standby) costs the GPU nothing.
  let running: Promise<void> | undefined;
  let closePromise: Promise<void> | undefined;

  return {
    kind: 'inference',
    async next(signal) {
      if (closed) throw closedError();
      running ??= run();
      const image = await buffer.take(signal);
      lastShown = image;
      if (buffer.length <= lowWater) wake();
      return image;
    },
    reject(image, err) {
      check.rejected(image, err);
    },
    available() {
      return buffer.length;
    },
    status() {
      const facts = { prompt, buffered: buffer.length, capacity, generated, calling: call !== undefined, ...check.counts() };
      return { ...status, details: { ...status.details, ...facts } };
    },
    setPrompt(next, nextOptions = {}) {
      prompt = next;
      promptOptions = nextOptions;
      nextSeed = nextOptions.seed;
      // The old prompt's queued frames are never shown, so a drift continues from the screen.
      lastImage = lastShown?.data;
      buffer.clear();
      if (status.state === 'ok') status = { state: 'waiting', reason: `Generating the first images for "${prompt}"` };
      call?.abort(new DOMException('The prompt changed', 'AbortError'));
      pause?.abort();
      wake();
    },
    onRefused(listener) {
      refusedListeners.add(listener);
      return () => refusedListeners.delete(listener);
    },
    close() {
      closePromise ??= (async () => {
        closed = true;
        unsubscribe?.();
        refusedListeners.clear();
        call?.abort(closedError());
        pause?.abort();
        wake();
        buffer.fail(closedError());
        await running;
      })();
      return closePromise;
    },
  };
}
