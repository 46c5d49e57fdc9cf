/**
 * Render benchmark: what one frame costs to make, and so how many canvases one core can feed at
 * 4 FPS. A measurement, not a test: it asserts nothing and its numbers depend on the machine.
 * Run with `npm run bench` (or `npx tsx tools/bench/render.ts [--quick] [--out-dir DIR]`); it
 * prints a Markdown table and writes <DIR, default bench/results>/render.{json,md}. `--quick`
 * takes fewer samples per case (noisier, about a third of the time).
 *
 * A frame here is the whole render stage: decode + auto-rotate + resize to fit + encode, from
 * encoded bytes to encoded bytes, as the server does for a source image it has not seen.
 * libvips runs on one thread (`sharp.concurrency(1)`) and one frame is in flight at a time, so
 * each figure is the cost on one core. The libvips operation cache is off, so a repeated input
 * is decoded again every time, as a fresh generated frame would be.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import sharp, { type OutputInfo } from 'sharp';
import { createRandom } from '../support/random.js';

const ROOT = new URL('../../', import.meta.url);
const args = parseArgs({ options: { quick: { type: 'boolean', default: false }, 'out-dir': { type: 'string' } } }).values;
const QUICK = args.quick;
const RESULTS_DIR = args['out-dir'] ? pathToFileURL(`${fileURLToPath(new URL(args['out-dir'], ROOT))}/`) : new URL('bench/results/', ROOT);
/** A 1024x1024 JPEG from the bundled set with real edges, stars and text: the typical input. */
const TYPICAL_ASSET = new URL('assets/12-dusk.jpg', ROOT);
const FPS = 4;

type Encoder =
  | { format: 'jpeg'; quality: number }
  | { format: 'webp'; quality: number; effort: number }
  | { format: 'avif'; quality: number; effort: number };

interface Case {
  input: string;
  data: Buffer;
  /** Long edge the frame is fitted inside (never enlarged). */
  target: number;
  encoder: Encoder;
}

interface CaseResult {
  input: string;
  output: string;
  target: number;
  reps: number;
  medianMs: number;
  p90Ms: number;
  /** floor(1000 / (FPS * median)): canvases one core keeps at 4 FPS, nothing else running. */
  canvasesPerCore: number;
  /** The same from p90, a more cautious figure for planning. */
  canvasesPerCoreP90: number;
  bytesPerFrame: number;
  outWidth: number;
  outHeight: number;
}

/** Uniform RGB noise: nothing to compress, nothing to predict. The worst case for every codec. */
async function makeNoisyPng(size: number): Promise<Buffer> {
  const rand = createRandom(1);
  const pixels = Buffer.alloc(size * size * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(rand() * 256);
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .png()
    .toBuffer();
}

/**
 * A stand-in for a 4K photo: smooth colour fields plus sensor-like grain, so the JPEG is about
 * as large and as costly to decode as a camera's.
 */
async function makePhotoLikeJpeg(width: number, height: number): Promise<Buffer> {
  const rand = createRandom(2);
  const pixels = Buffer.alloc(width * height * 3);
  let i = 0;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      const base = [120 + 90 * Math.sin(u * 5 + v * 2), 110 + 80 * Math.sin(v * 4 - u * 3 + 1), 130 + 70 * Math.cos(u * 3 + v * 6)];
      for (const c of base) pixels[i++] = Math.max(0, Math.min(255, Math.round(c + (rand() - 0.5) * 24)));
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 90 })
    .toBuffer();
}

function describe(encoder: Encoder): string {
  switch (encoder.format) {
    case 'jpeg':
      return `JPEG q${encoder.quality}`;
    case 'webp':
      return `WebP q${encoder.quality} effort ${encoder.effort}`;
    case 'avif':
      return `AVIF q${encoder.quality} effort ${encoder.effort}`;
  }
}

async function renderFrame(c: Case): Promise<{ data: Buffer; info: OutputInfo }> {
  const pipeline = sharp(c.data).rotate().resize({ width: c.target, height: c.target, fit: 'inside', withoutEnlargement: true });
  const { encoder } = c;
  switch (encoder.format) {
    case 'jpeg':
      pipeline.jpeg({ quality: encoder.quality, mozjpeg: false });
      break;
    case 'webp':
      pipeline.webp({ quality: encoder.quality, effort: encoder.effort });
      break;
    case 'avif':
      pipeline.avif({ quality: encoder.quality, effort: encoder.effort });
      break;
  }
  return pipeline.toBuffer({ resolveWithObject: true });
}

/** Nearest-rank percentile of an ascending list. */
function percentile(sorted: readonly number[], p: number): number {
  const rank = Math.max(1, Math.ceil(p * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1] ?? Number.NaN;
}

/**
 * Warms up, then repeats until `maxReps` or until `budgetMs` is spent, whichever is first, but
 * never fewer than `minReps`: slow encoders get fewer samples instead of blowing the run time.
 */
async function measure(c: Case): Promise<CaseResult> {
  const slow = c.encoder.format === 'avif';
  const warmups = slow || QUICK ? 1 : 3;
  const minReps = QUICK ? (slow ? 2 : 5) : slow ? 3 : 10;
  const maxReps = QUICK ? (slow ? 3 : 15) : slow ? 8 : 40;
  const budgetMs = QUICK ? (slow ? 1500 : 800) : slow ? 6000 : 2500;

  let last = await renderFrame(c);
  for (let i = 1; i < warmups; i++) last = await renderFrame(c);

  const samples: number[] = [];
  const started = performance.now();
  while (samples.length < maxReps && (samples.length < minReps || performance.now() - started < budgetMs)) {
    const t0 = performance.now();
    last = await renderFrame(c);
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  const medianMs = percentile(samples, 0.5);
  const p90Ms = percentile(samples, 0.9);
  return {
    input: c.input,
    output: describe(c.encoder),
    target: c.target,
    reps: samples.length,
    medianMs,
    p90Ms,
    canvasesPerCore: Math.floor(1000 / (FPS * medianMs)),
    canvasesPerCoreP90: Math.floor(1000 / (FPS * p90Ms)),
    bytesPerFrame: last.data.length,
    outWidth: last.info.width,
    outHeight: last.info.height,
  };
}

function machineLine(): string {
  const cpus = os.cpus();
  const model = cpus[0]?.model.trim() ?? 'unknown CPU';
  const memGiB = (os.totalmem() / 2 ** 30).toFixed(1);
  return (
    `${model}, ${cpus.length} cores, ${memGiB} GiB RAM, ${os.platform()} ${os.release()}, ` +
    `Node ${process.version}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}`
  );
}

function toMarkdown(results: readonly CaseResult[], machine: string, date: string): string {
  const rows = results.map(
    (r) =>
      `| ${r.input} | ${r.output} | ${r.target} → ${r.outWidth}x${r.outHeight} | ${r.medianMs.toFixed(1)} | ` +
      `${r.p90Ms.toFixed(1)} | ${r.canvasesPerCore} | ${r.canvasesPerCoreP90} | ` +
      `${(r.bytesPerFrame / 1024).toFixed(1)} | ${r.reps} |`,
  );
  return [
    '# Render benchmark',
    '',
    `Machine: ${machine}`,
    `Date: ${date}`,
    '',
    'One frame = decode + `.rotate()` + resize to fit (`inside`, no enlargement) + encode, on one',
    'libvips thread with the operation cache off, one frame at a time. Canvases per core at',
    `${FPS} FPS = floor(1000 / (${FPS} × ms)), from the median and from p90.`,
    '',
    '| Input | Output | Fit → size | ms median | ms p90 | canvases/core | canvases/core (p90) | KiB/frame | reps |',
    '|---|---|---|--:|--:|--:|--:|--:|--:|',
    ...rows,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  sharp.concurrency(1);
  sharp.cache(false);

  let typical: Buffer;
  try {
    typical = await readFile(TYPICAL_ASSET);
  } catch (err) {
    throw new Error(`Cannot read the typical input "${fileURLToPath(TYPICAL_ASSET)}": run \`npm run assets\` first`, { cause: err });
  }
  const noisy = await makeNoisyPng(1024);
  const photo4k = await makePhotoLikeJpeg(3840, 2160);
  const inputs = [
    { name: `noisy PNG 1024² (${Math.round(noisy.length / 1024)} KiB)`, data: noisy },
    { name: `asset JPEG 1024² (${Math.round(typical.length / 1024)} KiB)`, data: typical },
    { name: `4K JPEG 3840x2160 (${Math.round(photo4k.length / 1024)} KiB)`, data: photo4k },
  ];

  const frameEncoders: Encoder[] = [
    { format: 'jpeg', quality: 80 },
    ...[0, 1, 2, 4].map((effort): Encoder => ({ format: 'webp', quality: 80, effort })),
    { format: 'avif', quality: 50, effort: 0 },
  ];
  const cases: Case[] = inputs.flatMap((input) =>
    frameEncoders.map((encoder) => ({ input: input.name, data: input.data, target: 1024, encoder })),
  );
  // Full-HD and 4K walls: the 4K source at the display's own size, fastest WebP and JPEG.
  const big = inputs[2] as (typeof inputs)[number];
  for (const target of [1920, 3840]) {
    for (const encoder of [
      { format: 'webp', quality: 80, effort: 0 },
      { format: 'jpeg', quality: 80 },
    ] as Encoder[]) {
      cases.push({ input: big.name, data: big.data, target, encoder });
    }
  }

  const machine = machineLine();
  const date = new Date().toISOString();
  process.stdout.write(`Machine: ${machine}\nDate: ${date}\n\n`);

  const results: CaseResult[] = [];
  for (const c of cases) {
    const r = await measure(c);
    results.push(r);
    process.stderr.write(`  ${r.input} / ${r.output} / ${r.target}: ${r.medianMs.toFixed(1)} ms (${r.reps} reps)\n`);
  }

  const markdown = toMarkdown(results, machine, date);
  process.stdout.write(`${markdown}\n`);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(new URL('render.md', RESULTS_DIR), markdown);
  await writeFile(new URL('render.json', RESULTS_DIR), `${JSON.stringify({ machine, date, fps: FPS, results }, null, 2)}\n`);
}

await main();
