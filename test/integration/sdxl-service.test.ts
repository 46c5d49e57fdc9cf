/**
 * The Python SDXL-Turbo service (sdxl-service/) with its fake pipeline, answering the
 * Node inference client over real gRPC on an ephemeral loopback port: health while the
 * "model" loads, GetInfo, a streamed batch, img2img, cancellation the service sees, refused
 * requests, a full queue, and a graceful stop.
 *
 * Needs /usr/bin/python3 with Debian's python3-grpcio, python3-protobuf and python3-pil, and
 * protoc (protobuf-compiler) to compile proto/ for Python. Without them the suite is skipped
 * and says why.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createInferenceClient, type InferenceClient, type InferenceImage } from '../../server/inference/client.js';
import {
  IMAGE_GENERATOR_SERVICE,
  SERVING_STATUS,
  loadInferenceProtos,
  type HealthClient,
  type ImageGeneratorClient,
} from '../../server/inference/proto.js';
import { captureLogs } from '../support/log-capture.js';

const PYTHON = '/usr/bin/python3';
const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DEBIAN_PACKAGES = 'python3-grpcio python3-protobuf python3-pil protobuf-compiler';

/** Why the Python service cannot run on this machine, or undefined when it can. */
function whyNotRunnable(): string | undefined {
  if (!existsSync(PYTHON)) return `${PYTHON} does not exist`;
  const check = spawnSync(PYTHON, ['sdxl-service/protos.py', '--check'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });
  if (check.status === 0) return undefined;
  return `${(check.stdout + check.stderr).trim() || `exit ${check.status}`} (apt-get install -y ${DEBIAN_PACKAGES})`;
}

const skipReason = whyNotRunnable();
if (skipReason) console.warn(`Skipping the Python SDXL service test: ${skipReason}`);

interface PythonService {
  child: ChildProcess;
  address: string;
  /** Stdout JSON events: listening, serving, failed, stopped. */
  events: Array<Record<string, unknown>>;
  /** Stderr lines (the service's log). */
  log: string[];
  exited: Promise<number | null>;
}

async function startPythonService(args: string[]): Promise<PythonService> {
  const child = spawn(PYTHON, ['sdxl-service/server.py', '--fake', '--host', '127.0.0.1', '--port', '0', ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Array<Record<string, unknown>> = [];
  const log: string[] = [];
  createInterface({ input: child.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      log.push(`(stdout) ${line}`);
    }
  });
  createInterface({ input: child.stderr! }).on('line', (line) => log.push(line));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const listening = await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`The service exited with ${child.exitCode}:\n${log.join('\n')}`);
      const event = events.find((e) => e.event === 'listening');
      if (!event) throw new Error('The service has not printed its "listening" line yet');
      return event;
    },
    { timeout: 15_000, interval: 20 },
  );
  return { child, address: `127.0.0.1:${String(listening.port)}`, events, log, exited };
}

function unary<Res>(start: (callback: (err: grpc.ServiceError | null, value?: Res) => void) => void): Promise<Res> {
  return new Promise((resolve, reject) => {
    start((err, value) => (err ? reject(err) : resolve(value as Res)));
  });
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

describe.skipIf(skipReason !== undefined)('Python SDXL-Turbo service (fake pipeline) over real gRPC', () => {
  const protos = loadInferenceProtos();
  let service: PythonService;
  let generator: ImageGeneratorClient;
  let health: HealthClient;
  let client: InferenceClient;

  beforeAll(async () => {
    // 100 ms per image, a "model" that takes 1.5 s to load, one call may wait behind the running one.
    service = await startPythonService(['--max-batch', '6', '--max-queue', '1', '--fake-latency-ms', '100', '--fake-load-ms', '1500']);
    generator = new protos.imageGenerator(service.address, grpc.credentials.createInsecure());
    health = new protos.health(service.address, grpc.credentials.createInsecure());
  });

  afterAll(async () => {
    await client?.close();
    generator?.close();
    health?.close();
    if (service && service.child.exitCode === null && service.child.signalCode === null) {
      service.child.kill('SIGKILL');
      await service.exited;
    }
  });

  const healthOf = (name: string) => unary<{ status: number }>((cb) => health.check({ service: name }, cb)).then((r) => r.status);

  it('reports NOT_SERVING while the model loads, answers GetInfo meanwhile, then SERVING', async () => {
    expect(await healthOf('')).toBe(SERVING_STATUS.NOT_SERVING);
    expect(await healthOf(IMAGE_GENERATOR_SERVICE)).toBe(SERVING_STATUS.NOT_SERVING);

    const early = await new Promise<grpc.ServiceError>((resolve) => {
      const call = generator.generate({ prompt: 'too early' });
      call.on('data', () => {});
      call.on('error', resolve);
    });
    expect(early.code).toBe(grpc.status.UNAVAILABLE);
    expect(early.details).toContain('still loading');

    const info = await unary<{ modelName: string }>((cb) => generator.getInfo({}, cb));
    expect(info.modelName).toContain('fake');

    await vi.waitFor(async () => expect(await healthOf(IMAGE_GENERATOR_SERVICE)).toBe(SERVING_STATUS.SERVING), {
      timeout: 10_000,
      interval: 50,
    });
    expect(await healthOf('')).toBe(SERVING_STATUS.SERVING);
    expect(service.events.map((e) => e.event)).toEqual(['listening', 'serving']);
    const unknown = await failure(healthOf('no.such.Service'));
    expect(unknown).toMatchObject({ code: grpc.status.NOT_FOUND });

    // The Easel client watches health and sees the endpoint up.
    client = createInferenceClient({ endpoints: [service.address], logger: captureLogs().logger, backoff: { initialMs: 50, maxMs: 200 } });
    await vi.waitFor(() => expect(client.status().state).toBe('up'));
  });

  it('answers GetInfo with its limits through the Easel client', async () => {
    const info = await client.getInfo();
    expect(info).toMatchObject({
      maxBatch: 6,
      minInferenceSteps: 1,
      maxInferenceSteps: 4,
      defaultInferenceSteps: 1,
      supportsInitImage: true,
      outputMime: 'image/jpeg',
      serverVersion: 'easel-sdxl 0.1.0',
      endpoint: service.address,
    });
    expect(info.supportedSizes[0]).toEqual({ width: 512, height: 512 });
    expect(info.device).toContain('fake');
  });

  it('streams a batch image by image: JPEGs of the asked size, seeds seed..seed+2, request_id echoed', async () => {
    const arrivals: number[] = [];
    const images: InferenceImage[] = [];
    for await (const image of client.generate({
      prompt: 'a lighthouse at dawn',
      numImages: 3,
      seed: 1000,
      width: 128,
      height: 96,
      requestId: 'sdxl-batch',
    })) {
      arrivals.push(performance.now());
      images.push(image);
    }
    expect(images.map((i) => [i.index, i.seed])).toEqual([
      [0, 1000],
      [1, 1001],
      [2, 1002],
    ]);
    for (const image of images) {
      expect(image).toMatchObject({ requestId: 'sdxl-batch', mime: 'image/jpeg', width: 128, height: 96 });
      expect(image.inferenceMs).toBeGreaterThanOrEqual(90);
      expect(await sharp(image.data).metadata()).toMatchObject({ format: 'jpeg', width: 128, height: 96 });
    }
    // Streamed as each is made (100 ms apart), not all at the end.
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThanOrEqual(150);

    // Image i of a batch is the image a batch of one makes with seed + i.
    const [again] = await collect(client.generate({ prompt: 'a lighthouse at dawn', numImages: 1, seed: 1001, width: 128, height: 96 }));
    expect(again!.data.equals(images[1]!.data)).toBe(true);
    expect(images[0]!.data.equals(images[1]!.data)).toBe(false);
  });

  it('fills in the default size and picks a seed below 2^53 when the request leaves them out', async () => {
    const [image] = await collect(client.generate({ prompt: 'defaults' }));
    expect(image).toMatchObject({ width: 512, height: 512, index: 0 });
    expect(Number.isSafeInteger(image!.seed)).toBe(true);
    expect(await sharp(image!.data).metadata()).toMatchObject({ width: 512, height: 512 });
  });

  it('does img2img from an init_image, resized to the asked size', async () => {
    const start = await sharp({ create: { width: 200, height: 150, channels: 3, background: '#3366cc' } })
      .png()
      .toBuffer();
    const [image] = await collect(
      client.generate({ prompt: 'drift', width: 64, height: 64, initImage: start, strength: 0.5, numInferenceSteps: 2, seed: 5 }),
    );
    expect(await sharp(image!.data).metadata()).toMatchObject({ format: 'jpeg', width: 64, height: 64 });
  });

  it('stops generating when the call is cancelled mid-stream, and the service says so', async () => {
    const controller = new AbortController();
    const seen: number[] = [];
    const run = (async () => {
      for await (const image of client.generate(
        { prompt: 'stop me', numImages: 6, width: 64, height: 64, requestId: 'sdxl-cancel' },
        { signal: controller.signal },
      )) {
        seen.push(image.index);
        controller.abort(new Error('prompt changed'));
      }
    })();
    await expect(run).rejects.toThrow('prompt changed');
    expect(seen).toEqual([0]);
    const line = await vi.waitFor(
      () => {
        const found = service.log.find((l) => l.includes('request_id=sdxl-cancel') && l.includes('Generate cancelled'));
        if (!found) throw new Error('The service has not logged the cancellation yet');
        return found;
      },
      { timeout: 5_000, interval: 20 },
    );
    const [, made, asked] = /cancelled by the client\) after (\d+) of (\d+) images/.exec(line) ?? [];
    expect(Number(asked)).toBe(6);
    expect(Number(made)).toBeLessThan(6);
    expect(service.log.some((l) => l.includes('Generate done request_id=sdxl-cancel'))).toBe(false);

    // The GPU slot was given back: the next call runs at once.
    const next = await collect(client.generate({ prompt: 'after the cancel', width: 64, height: 64 }));
    expect(next).toHaveLength(1);
  });

  it('refuses requests that break the contract with EASEL_ERR_INFERENCE_REJECTED and says why', async () => {
    const cases: Array<[Parameters<InferenceClient['generate']>[0], string]> = [
      [{ prompt: 'steps', numInferenceSteps: 9 }, 'num_inference_steps 9 is outside 1..4'],
      [{ prompt: 'odd size', width: 100, height: 64 }, 'width 100 is not allowed'],
      [{ prompt: 'too many', numImages: 7 }, 'num_images 7 is over max_batch 6'],
      [{ prompt: 'bad start', initImage: Buffer.from('not an image'), strength: 0.5 }, 'init_image does not decode as an image'],
      [{ prompt: 'no strength', initImage: Buffer.from('x'), strength: 0 }, 'strength 0 is outside 0..1'],
    ];
    for (const [request, words] of cases) {
      const err = await failure(collect(client.generate(request)));
      expect(err).toMatchObject({ code: 'EASEL_ERR_INFERENCE_REJECTED', details: { grpcCode: 'INVALID_ARGUMENT' } });
      expect((err as Error).message).toContain(words);
    }
  });

  it('answers RESOURCE_EXHAUSTED (EASEL_ERR_INFERENCE_BUSY) when the GPU queue is full', async () => {
    const small = { width: 64, height: 64 };
    // Holds the GPU for 600 ms: time enough for the two calls below to arrive on a slow machine.
    const running = client.generate({ prompt: 'running', numImages: 6, requestId: 'sdxl-running', ...small })[Symbol.asyncIterator]();
    await running.next();
    const waiting = collect(client.generate({ prompt: 'waiting', requestId: 'sdxl-waiting', ...small }));
    await vi.waitFor(() => expect(service.log.some((l) => l.includes('Generate request_id=sdxl-waiting'))).toBe(true), { interval: 10 });

    const err = await failure(collect(client.generate({ prompt: 'one too many', ...small })));
    expect(err).toMatchObject({ code: 'EASEL_ERR_INFERENCE_BUSY', details: { grpcCode: 'RESOURCE_EXHAUSTED' } });
    expect((err as Error).message).toContain('busy');

    let rest = 0;
    for (let next = await running.next(); !next.done; next = await running.next()) rest += 1;
    expect(rest).toBe(5);
    expect(await waiting).toHaveLength(1);
  });

  it('stops gracefully on SIGTERM: health ends, then the process exits 0', async () => {
    service.child.kill('SIGTERM');
    expect(await service.exited).toBe(0);
    expect(service.events.at(-1)).toMatchObject({ event: 'stopped' });
    await vi.waitFor(() => expect(client.status().state).toBe('down'));
    expect(service.log.join('\n')).not.toContain('Traceback');
  });
});
