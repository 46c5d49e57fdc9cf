/**
 * The dev inference service: a real gRPC server implementing proto/easel/inference/v1 and
 * grpc.health.v1 that draws pictures procedurally instead of running a model, so Easel runs
 * and is tested end to end on machines with no GPU. It behaves like a GPU where that matters:
 * a per-image latency, images streamed one by one, cancellation honoured at once, and
 * injected faults (errors, hangs, bytes that are not an image).
 */
import { randomBytes, randomInt, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import pino from 'pino';
import type { Logger } from '../../server/logger.js';
import { delay } from '../../server/inference/backoff.js';
import { IMAGE_GENERATOR_SERVICE, SERVING_STATUS, loadInferenceProtos, type ImageGeneratorHandlers } from '../../server/inference/proto.js';
import { createRandom, drawDevImage } from './draw.js';
import { createHealthService } from './health.js';
import { SIZES, checkRequest } from './request-rules.js';

export interface DevInferenceServiceOptions {
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default 0: any free port (read it from the result). */
  port?: number;
  /** Time to "generate" each image, ms. Default 207 (SDXL-Turbo, 512 px, 1 step, one consumer GPU). */
  latencyMs?: number;
  /** Fraction of images, 0..1, that end the call with INTERNAL instead. */
  errorRate?: number;
  /** Fraction of images, 0..1, that never come: the call hangs until it is cancelled. */
  hangRate?: number;
  /** Fraction of images, 0..1, sent as random bytes that are not an image. */
  garbageRate?: number;
  /** Seed of the fault dice, so a test sees the same faults every run. Default: random. */
  faultSeed?: number;
  /** Most images per call. Default 8. */
  maxBatch?: number;
  logger?: Logger;
}

export type DevFaultRates = Partial<Pick<DevInferenceServiceOptions, 'errorRate' | 'hangRate' | 'garbageRate'>>;

/** Counters tests read; they only ever grow (except `active`). */
export interface DevInferenceStats {
  calls: number;
  images: number;
  /** Calls the client cancelled (or whose deadline passed) before they ended. */
  cancellations: number;
  errors: number;
  hangs: number;
  garbage: number;
  /** Calls running now. */
  active: number;
  /** The latest 100 calls, oldest first. */
  recent: Array<{ requestId: string; prompt: string; images: number; outcome: 'running' | 'done' | 'cancelled' | 'failed' }>;
}

export interface DevInferenceService {
  readonly port: number;
  /** "host:port", ready for inference.endpoints. */
  readonly address: string;
  readonly stats: DevInferenceStats;
  /** Flips the health status, as a real service does while its model loads. */
  setServing(serving: boolean): void;
  /**
   * Changes the fault rates for images from now on (calls already hanging keep hanging until
   * cancelled), so a test can break a running service and mend it again.
   */
  setFaults(rates: DevFaultRates): void;
  /**
   * Stops the server. Graceful by default (health NOT_SERVING, running calls cancelled);
   * `{ force: true }` drops every connection at once, like a crashed process.
   */
  close(options?: { force?: boolean }): Promise<void>;
}

/**
 * @example
 * const service = await startDevInferenceService({ port: 0, latencyMs: 20 });
 * const client = createInferenceClient({ endpoints: [service.address], logger });
 * await service.close();
 */
export async function startDevInferenceService(options: DevInferenceServiceOptions = {}): Promise<DevInferenceService> {
  const log = options.logger ?? pino({ level: 'silent' });
  const host = options.host ?? '127.0.0.1';
  const latencyMs = options.latencyMs ?? 207;
  const maxBatch = options.maxBatch ?? 8;
  const dice = createRandom(options.faultSeed ?? randomInt(2 ** 31));
  const stats: DevInferenceStats = { calls: 0, images: 0, cancellations: 0, errors: 0, hangs: 0, garbage: 0, active: 0, recent: [] };
  const stopping = new AbortController();
  const protos = loadInferenceProtos();
  const health = createHealthService();
  const server = new grpc.Server();
  const rates = { errorRate: options.errorRate ?? 0, hangRate: options.hangRate ?? 0, garbageRate: options.garbageRate ?? 0 };

  function rollFault(): 'error' | 'hang' | 'garbage' | undefined {
    const roll = dice();
    let edge = rates.errorRate;
    if (roll < edge) return 'error';
    edge += rates.hangRate;
    if (roll < edge) return 'hang';
    edge += rates.garbageRate;
    if (roll < edge) return 'garbage';
    return undefined;
  }

  const generator: ImageGeneratorHandlers = {
    async Generate(call) {
      const request = call.request;
      const invalid = await checkRequest(request, maxBatch);
      if (invalid) {
        call.emit('error', { code: grpc.status.INVALID_ARGUMENT, details: invalid });
        return;
      }
      const requestId = request.requestId || randomUUID();
      const count = request.numImages || 1;
      const width = request.width || SIZES[0][0];
      const height = request.height || SIZES[0][1];
      const firstSeed = request.seed ?? randomInt(2 ** 32);
      const record = { requestId, prompt: request.prompt, images: 0, outcome: 'running' as DevInferenceStats['recent'][number]['outcome'] };
      stats.calls += 1;
      stats.active += 1;
      stats.recent.push(record);
      if (stats.recent.length > 100) stats.recent.shift();
      const callLog = log.child({ requestId });
      const cancelled = new AbortController();
      call.on('cancelled', () => {
        if (record.outcome !== 'running') return;
        record.outcome = 'cancelled';
        stats.cancellations += 1;
        callLog.info({ images: record.images, of: count }, 'Generate call cancelled by the client; stopping');
        cancelled.abort();
      });
      const signal = AbortSignal.any([cancelled.signal, stopping.signal]);
      callLog.info({ prompt: request.prompt, count, width, height, seed: firstSeed }, 'Generate call');
      try {
        for (let index = 0; index < count; index += 1) {
          const started = performance.now();
          const seed = firstSeed + index;
          const fault = rollFault();
          if (fault === 'error') {
            stats.errors += 1;
            record.outcome = 'failed';
            call.emit('error', { code: grpc.status.INTERNAL, details: `Injected fault: image ${index} failed (--error-rate)` });
            return;
          }
          if (fault === 'hang') {
            stats.hangs += 1;
            callLog.info({ index }, 'Injected fault: hanging until the call is cancelled (--hang-rate)');
            await delay(2 ** 31 - 1, { signal });
          }
          const data =
            fault === 'garbage'
              ? Buffer.concat([Buffer.from('not an image: '), randomBytes(256)])
              : await drawDevImage({
                  prompt: request.prompt,
                  seed,
                  width,
                  height,
                  initImage: request.initImage,
                  strength: request.strength,
                });
          if (fault === 'garbage') stats.garbage += 1;
          // The latency is the whole time per image, drawing included, as on a GPU.
          await delay(Math.max(0, latencyMs - (performance.now() - started)), { signal });
          call.write({
            data,
            mime: 'image/jpeg',
            width,
            height,
            seed,
            index,
            requestId,
            inferenceMs: performance.now() - started,
          });
          record.images += 1;
          stats.images += 1;
        }
        record.outcome = 'done';
        call.end();
      } catch (err) {
        // Cancelled by the client (logged above): gRPC has already ended the call.
        if (cancelled.signal.aborted) return;
        record.outcome = 'failed';
        if (stopping.signal.aborted) {
          // End it here, or a graceful shutdown would wait for it forever.
          call.emit('error', { code: grpc.status.UNAVAILABLE, details: 'The dev inference service is shutting down' });
        } else {
          callLog.error({ err }, 'Cannot draw image');
          call.emit('error', { code: grpc.status.INTERNAL, details: `Cannot draw image: ${(err as Error).message}` });
        }
      } finally {
        stats.active -= 1;
      }
    },
    GetInfo(_call, callback) {
      callback(null, {
        modelName: 'easel-dev-procedural',
        supportedSizes: SIZES.map(([width, height]) => ({ width, height })),
        maxBatch,
        minInferenceSteps: 1,
        maxInferenceSteps: 4,
        defaultInferenceSteps: 1,
        supportsInitImage: true,
        outputMime: 'image/jpeg',
        device: 'cpu (procedural drawing, no model)',
        serverVersion: 'easel inference-dev 0.1.0',
      });
    },
  };

  server.addService(protos.imageGenerator.service, generator);
  server.addService(protos.health.service, health.handlers);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${host}:${options.port ?? 0}`, grpc.ServerCredentials.createInsecure(), (err, bound) => {
      if (err) reject(err);
      else resolve(bound);
    });
  });
  const setServing = (serving: boolean) => {
    const status = serving ? SERVING_STATUS.SERVING : SERVING_STATUS.NOT_SERVING;
    health.setStatus('', status);
    health.setStatus(IMAGE_GENERATOR_SERVICE, status);
  };
  setServing(true);
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  log.info({ address, latencyMs, maxBatch }, 'Dev inference service listening');

  let closePromise: Promise<void> | undefined;
  return {
    port,
    address,
    stats,
    setServing,
    setFaults(next) {
      const merged = { ...rates };
      for (const key of ['errorRate', 'hangRate', 'garbageRate'] as const) if (next[key] !== undefined) merged[key] = next[key];
      const values = Object.values(merged);
      if (values.some((r) => !(r >= 0 && r <= 1)) || values.reduce((a, b) => a + b, 0) > 1) {
        throw new RangeError(`Expected fault rates from 0 to 1 adding up to at most 1 but received ${JSON.stringify(merged)}`);
      }
      Object.assign(rates, merged);
      log.info(merged, 'Fault rates changed');
    },
    close({ force = false } = {}) {
      closePromise ??= new Promise<void>((resolve) => {
        stopping.abort();
        if (force) {
          server.forceShutdown();
          resolve();
          return;
        }
        setServing(false);
        health.endWatches();
        server.tryShutdown(() => resolve());
      });
      return closePromise;
    },
  };
}
