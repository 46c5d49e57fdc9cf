/**
 * The gRPC client of the inference service (proto/easel/inference/v1/inference.proto):
 * spreads calls over the endpoints that are up, puts a deadline on every call, and cancels a
 * call on the service as soon as its images are no longer wanted.
 */
import { randomUUID } from 'node:crypto';
import { EaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../stream/clock.js';
import type { BackoffOptions } from './backoff.js';
import { createEndpoint, type Endpoint, type EndpointStatus } from './endpoint.js';
import { devServiceTip, isEndpointFailure, isServiceError, toInferenceError } from './grpc-errors.js';
import { streamImages, type InferenceImage, type InferenceRequest } from './generate-call.js';
import { createModelNames } from './model-names.js';
import { loadInferenceProtos, type InfoResponseMessage } from './proto.js';

export type { InferenceImage, InferenceRequest } from './generate-call.js';
export type { EndpointStatus } from './endpoint.js';

export interface InferenceClientOptions {
  /** "host:port" of each service; calls go to the least busy one that is up. */
  endpoints: string[];
  logger: Logger;
  /** Deadline of a GetInfo call, ms. Default 5000. */
  deadlineMs?: number;
  /** Deadline of a whole Generate call (every image of the batch), ms. Default 60000. */
  generateDeadlineMs?: number;
  /** How long one health Watch runs before it is renewed, ms. Default 60000. */
  healthRenewMs?: number;
  /** Reconnection schedule for an endpoint that is down. */
  backoff?: BackoffOptions;
  /** Times reconnection backoff and state changes. gRPC deadlines always use the wall clock. */
  clock?: Clock;
  random?: () => number;
}

export interface GenerateOptions {
  /** Aborting it cancels the call on the service, which stops generating. */
  signal?: AbortSignal;
  /** Overrides generateDeadlineMs for this call. */
  deadlineMs?: number;
}

export interface InferenceInfo extends InfoResponseMessage {
  /** The endpoint that answered. */
  endpoint: string;
}

export interface InferenceClientStatus {
  /** 'up': every endpoint serves; 'degraded': some do; 'down': none does; 'connecting': none answered yet. */
  state: 'up' | 'degraded' | 'down' | 'connecting';
  reason?: string;
  hint?: string;
  endpoints: EndpointStatus[];
}

export interface InferenceClient {
  /**
   * Streams the images of one Generate call as the service makes them. Breaking out of the
   * loop or aborting `signal` cancels the call on the service. Fails with an EaselError
   * (EASEL_ERR_INFERENCE_*) or, when aborted, with the signal's reason.
   */
  generate(request: InferenceRequest, options?: GenerateOptions): AsyncIterable<InferenceImage>;
  getInfo(options?: { signal?: AbortSignal }): Promise<InferenceInfo>;
  status(): InferenceClientStatus;
  /** Called on every change of an endpoint's state; returns the unsubscribe function. */
  onChange(listener: (status: InferenceClientStatus) => void): () => void;
  /** Cancels every call in flight and closes the channels; idempotent. */
  close(): Promise<void>;
}

/**
 * @example
 * const client = createInferenceClient({ endpoints: ['127.0.0.1:50051'], logger });
 * for await (const image of client.generate({ prompt: 'a lighthouse', numImages: 4 }, { signal })) {
 *   buffer.push(image.data);
 * }
 * await client.close();
 */
export function createInferenceClient(options: InferenceClientOptions): InferenceClient {
  if (options.endpoints.length === 0) {
    throw new RangeError('Expected at least one endpoint for endpoints but received none');
  }
  const protos = loadInferenceProtos();
  const clock = options.clock ?? systemClock;
  const deadlineMs = options.deadlineMs ?? 5_000;
  const generateDeadlineMs = options.generateDeadlineMs ?? 60_000;
  const listeners = new Set<(status: InferenceClientStatus) => void>();
  const closing = new AbortController();
  let closePromise: Promise<void> | undefined;
  let turn = 0;
  const models = createModelNames({ clock, deadlineMs });

  const emitChange = () => {
    const snapshot = status();
    for (const listener of listeners) listener(snapshot);
  };
  const endpoints: Endpoint[] = [...new Set(options.endpoints)].map((address) =>
    createEndpoint({
      address,
      protos,
      clock,
      logger: options.logger,
      random: options.random ?? Math.random,
      backoff: options.backoff,
      healthRenewMs: options.healthRenewMs ?? 60_000,
      onChange: emitChange,
    }),
  );

  /**
   * The least busy endpoint that is up, taking turns among equals so two idle GPUs both get
   * work. Endpoints not heard from yet are tried only when none is known to be up.
   */
  function pick(exclude: ReadonlySet<Endpoint>): Endpoint {
    const candidates = endpoints.filter((e) => !exclude.has(e));
    for (const wanted of ['up', 'connecting'] as const) {
      const pool = candidates.filter((e) => e.status().state === wanted);
      if (pool.length === 0) continue;
      turn += 1;
      const rotated = pool.map((e, i) => ({ e, order: (i + turn) % pool.length }));
      rotated.sort((a, b) => a.e.status().inFlight - b.e.status().inFlight || a.order - b.order);
      return rotated[0]!.e;
    }
    throw unavailable();
  }

  /** Names the endpoints actually configured, so the hint can be followed as written. */
  function startHint(): string {
    const addresses = endpoints.map((e) => `"${e.address}"`).join(', ');
    return `Start the inference service at ${addresses} (${devServiceTip(endpoints[0]!.address)}) or fix inference.endpoints; Easel reconnects by itself`;
  }

  function unavailable(): EaselError {
    const why = endpoints.map((e) => `"${e.address}" ${e.status().reason}`).join('; ');
    return new EaselError('EASEL_ERR_INFERENCE_UNAVAILABLE', `No inference endpoint is up: ${why}`, {
      hint: startHint(),
      details: { endpoints: endpoints.map((e) => e.address) },
    });
  }

  async function* generate(request: InferenceRequest, callOptions: GenerateOptions = {}): AsyncGenerator<InferenceImage> {
    const signal = callOptions.signal ? AbortSignal.any([callOptions.signal, closing.signal]) : closing.signal;
    const tried = new Set<Endpoint>();
    const requestId = request.requestId || randomUUID();
    for (;;) {
      signal.throwIfAborted();
      const endpoint = pick(tried);
      tried.add(endpoint);
      const { connection, end } = endpoint.begin();
      models.of(connection);
      let yielded = 0;
      try {
        const images = streamImages(
          connection.generator,
          { ...request, requestId },
          {
            signal,
            endpoint: endpoint.address,
            // Wall-clock, not the clock: gRPC compares deadlines with the real time.
            deadline: Date.now() + (callOptions.deadlineMs ?? generateDeadlineMs),
          },
        );
        for await (const image of images) {
          yielded += 1;
          const model = models.of(connection);
          yield model === undefined ? image : { ...image, model };
        }
        return;
      } catch (err) {
        if (signal.aborted) throw signal.reason;
        const mapped = isServiceError(err) ? toInferenceError(err, endpoint.address) : err;
        if (mapped instanceof EaselError && mapped.code === 'EASEL_ERR_INFERENCE_UNAVAILABLE') {
          endpoint.reportDown(`failed a call: ${mapped.message}`);
        }
        // Another endpoint may take the same request, as long as nothing reached the caller yet.
        const canRetry = yielded === 0 && isEndpointFailure(mapped) && tried.size < endpoints.length;
        if (!canRetry || !endpoints.some((e) => !tried.has(e) && e.status().state !== 'down')) throw mapped;
        options.logger.debug({ endpoint: endpoint.address, err: mapped }, 'Retrying the Generate call on another endpoint');
      } finally {
        end();
      }
    }
  }

  function closedError(): EaselError {
    return new EaselError('EASEL_ERR_INFERENCE_UNAVAILABLE', 'Inference client is closed', {
      hint: 'The server is shutting down; calls stop with it',
    });
  }

  async function getInfo({ signal }: { signal?: AbortSignal } = {}): Promise<InferenceInfo> {
    signal?.throwIfAborted();
    const endpoint = pick(new Set());
    const { connection, end } = endpoint.begin();
    return new Promise<InferenceInfo>((resolve, reject) => {
      // Wall-clock: gRPC compares deadlines with the real time.
      const call = connection.generator.getInfo({}, { deadline: Date.now() + deadlineMs }, (err, reply) => {
        signal?.removeEventListener('abort', onAbort);
        end();
        if (signal?.aborted) reject(signal.reason);
        else if (err || !reply) reject(toInferenceError(err, endpoint.address));
        else resolve({ ...reply, endpoint: endpoint.address });
      });
      const onAbort = () => call.cancel();
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  function status(): InferenceClientStatus {
    const list = endpoints.map((e) => e.status());
    const up = list.filter((e) => e.state === 'up');
    const down = list.filter((e) => e.state === 'down');
    const describe = (e: EndpointStatus) => `"${e.address}" ${e.reason}`;
    if (up.length === list.length) return { state: 'up', endpoints: list };
    if (up.length > 0) {
      return {
        state: 'degraded',
        reason: `${up.length} of ${list.length} inference endpoints serve; down: ${down.map(describe).join('; ')}`,
        hint: 'Generation continues on the others; start or fix the endpoints that are down',
        endpoints: list,
      };
    }
    if (down.length === 0) return { state: 'connecting', reason: 'Connecting to the inference service', endpoints: list };
    return {
      state: 'down',
      reason: `No inference endpoint serves: ${down.map(describe).join('; ')}`,
      hint: startHint(),
      endpoints: list,
    };
  }

  return {
    generate,
    getInfo,
    status,
    onChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    close() {
      closePromise ??= (async () => {
        closing.abort(closedError());
        listeners.clear();
        await Promise.allSettled(endpoints.map(async (e) => e.close()));
      })();
      return closePromise;
    },
  };
}
