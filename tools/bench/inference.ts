/**
 * Inference benchmark: the real server in this process, fed by the dev inference service over
 * real gRPC, watched by one display. Measures delivered FPS for a per-image latency (one and two
 * endpoints), the time from a prompt change to the first frame of the new prompt, and the
 * longest gap a display sees when the service is killed. A measurement, not a test.
 *
 *   npx tsx tools/bench/inference.ts [--latency-ms 60] [--seconds 20] [--out-dir bench/results]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { createEaselServer } from '../../server/app.js';
import { loadConfig, PROJECT_ROOT } from '../../server/config.js';
import { startDevInferenceService } from '../inference-dev.js';
import { DisplayClient } from '../../test/support/display-client.js';

const { values } = parseArgs({
  options: {
    'latency-ms': { type: 'string', default: '60' },
    seconds: { type: 'string', default: '20' },
    'out-dir': { type: 'string', default: 'bench/results' },
  },
});
const latencyMs = Number(values['latency-ms']);
const seconds = Number(values.seconds);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function withServer<T>(
  endpoints: string[],
  fn: (server: ReturnType<typeof createEaselServer>, display: DisplayClient) => Promise<T>,
) {
  const config = loadConfig({
    env: {
      EASEL_PORT: '0',
      EASEL_HOST: '127.0.0.1',
      EASEL_CANVASES: '[]',
      EASEL_STATE_FILE: '',
      EASEL_ARCHIVE_DIR: '',
      EASEL_INFERENCE_ENDPOINTS: endpoints.join(','),
      EASEL_LOG_LEVEL: 'warn',
    },
    argv: [],
    configDir: os.tmpdir(),
  });
  const server = createEaselServer({ config, logger: pino({ level: 'error' }) });
  const port = await server.listen();
  const display = new DisplayClient(`ws://127.0.0.1:${port}/ws/bench`);
  await display.opened;
  try {
    return await fn(server, display);
  } finally {
    display.close();
    await server.close();
  }
}

async function deliveredFps(endpointCount: number, latency: number) {
  const services = await Promise.all(Array.from({ length: endpointCount }, () => startDevInferenceService({ latencyMs: latency })));
  try {
    return await withServer(
      services.map((s) => s.address),
      async (_server, display) => {
        await sleep(3000); // warm-up: first batch, buffer fill
        const start = performance.now();
        await sleep(seconds * 1000);
        const frames = display.frames.filter((f) => f.at >= start && f.header.source === 'inference').length;
        return frames / ((performance.now() - start) / 1000);
      },
    );
  } finally {
    await Promise.all(services.map((s) => s.close({ force: true })));
  }
}

async function promptChange() {
  const service = await startDevInferenceService({ latencyMs });
  try {
    return await withServer([service.address], async (server, display) => {
      await sleep(3000);
      const times: number[] = [];
      for (let i = 0; i < 5; i++) {
        const prompt = `prompt number ${i}`;
        const changedAt = performance.now();
        server.registry.setPrompt('bench', prompt);
        while (!display.frames.some((f) => f.at >= changedAt && f.header.prompt === prompt)) await sleep(5);
        times.push(display.frames.find((f) => f.at >= changedAt && f.header.prompt === prompt)!.at - changedAt);
        await sleep(1500);
      }
      return { medianMs: median(times), allMs: times.map(Math.round) };
    });
  } finally {
    await service.close({ force: true });
  }
}

async function killGap() {
  const service = await startDevInferenceService({ latencyMs });
  return withServer([service.address], async (_server, display) => {
    await sleep(3000);
    const killedAt = performance.now();
    await service.close({ force: true });
    await sleep(5000);
    const around = display.frames.filter((f) => f.at >= killedAt - 1000);
    const gaps = around.slice(1).map((f, i) => f.at - around[i]!.at);
    const firstFallback = around.find((f) => f.header.source === 'folder');
    return {
      maxGapMs: Math.round(Math.max(...gaps)),
      firstFallbackAfterMs: firstFallback ? Math.round(firstFallback.at - killedAt) : null,
    };
  });
}

const result = {
  machine: `${os.cpus()[0]?.model} x${os.cpus().length}, node ${process.version}`,
  date: new Date().toISOString(),
  latencyMs,
  windowSeconds: seconds,
  fpsOneEndpoint: await deliveredFps(1, latencyMs),
  fpsOneEndpointAt207ms: await deliveredFps(1, 207),
  fpsTwoEndpointsAt207ms: await deliveredFps(2, 207),
  promptChangeToFirstFrame: await promptChange(),
  serviceKilled: await killGap(),
};
const text = JSON.stringify(result, null, 2);
process.stdout.write(`${text}\n`);
const outDir = path.resolve(PROJECT_ROOT, values['out-dir']);
await mkdir(outDir, { recursive: true });
await writeFile(path.join(outDir, 'inference.json'), `${text}\n`);
process.exit(0);
