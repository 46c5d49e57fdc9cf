/**
 * Archive benchmark: what keeping a frame costs, and how the store answers with 100,000 entries.
 * A measurement, not a test. `npm run bench:archive` (or `npx tsx tools/bench/archive.ts
 * [--entries 100000] [--frames 200] [--out-dir DIR]`) prints a Markdown report and writes
 * <DIR, default bench/results>/archive.{json,md}.
 *
 * - Write: `store.write()` of a 512x512 PNG (a bundled photo, as an image model's output would be
 *   sized), one at a time: CPU of the whole process (main thread and libuv/libvips threads) per
 *   frame, and wall time. The disk is the machine's; the page cache absorbs the writes (no fsync).
 * - Open: an archive of N entries (tiny PNGs and their `.json`, laid down as the store writes
 *   them) opened without an index (rebuilt from the `.json` files), then with it.
 * - List: `store.list()` latency for the first page, filters and a deep cursor, 50 per page.
 * - Thumbnails: cost of a miss and a hit, and a gallery's hit rate (archive-thumbs.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import sharp from 'sharp';
import { encodeCursor } from '../../server/archive/archive-index.js';
import { createArchiveStore } from '../../server/archive/archive-store.js';
import { systemClock } from '../../server/stream/clock.js';
import { ARCHIVE_T0, frameFor, tinyPng, writeArchiveFiles } from '../../test/support/archive-fixtures.js';
import { createRandom } from '../support/random.js';
import { benchThumbs, thumbsMarkdown } from './archive-thumbs.js';
import { machineInfo, machineLine } from './support/machine.js';

const ROOT = new URL('../../', import.meta.url);
const args = parseArgs({
  options: { entries: { type: 'string', default: '100000' }, frames: { type: 'string', default: '200' }, 'out-dir': { type: 'string' } },
}).values;
const ENTRIES = Number(args.entries);
const FRAMES = Number(args.frames);
const RESULTS_DIR = args['out-dir'] ? pathToFileURL(`${fileURLToPath(new URL(args['out-dir'], ROOT))}/`) : new URL('bench/results/', ROOT);
const CANVASES = ['wall-1', 'wall-2', 'lobby', 'foyer'];
const WORDS =
  'harbour forest city desert glacier orchard cathedral neon fog dawn dusk rain snow storm moon sun river bridge tower garden market lantern ship whale fox owl deer mountain valley meadow cliff lighthouse train station alley rooftop festival mirror glass marble copper velvet paper ink watercolour oil charcoal pastel'.split(
    ' ',
  );
const logger = pino({ level: 'silent' });
const store = (dir: string) =>
  createArchiveStore({ dir, maxBytes: 0, maxAgeDays: 0, minFreeBytes: 0, clock: systemClock, logger, sweepIntervalMs: 3_600_000 });

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}
const summary = (samples: number[]) => {
  const s = [...samples].sort((a, b) => a - b);
  return { median: percentile(s, 0.5), p90: percentile(s, 0.9), max: s[s.length - 1]! };
};
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

/** A 512x512 PNG: the bundled dusk photo (smooth, small), or noise (nothing to compress: the worst case). */
async function frames512(): Promise<Array<{ name: string; png: Buffer }>> {
  const photo = await sharp(fileURLToPath(new URL('assets/12-dusk.jpg', ROOT)))
    .resize(512, 512, { fit: 'cover' })
    .png()
    .toBuffer();
  const random = createRandom(3);
  const pixels = Buffer.alloc(512 * 512 * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  const noise = await sharp(pixels, { raw: { width: 512, height: 512, channels: 3 } })
    .png()
    .toBuffer();
  return [
    { name: 'photo', png: photo },
    { name: 'noise', png: noise },
  ];
}

async function benchWrite(dir: string, name: string, png: Buffer) {
  const s = store(dir);
  await s.open();
  for (let i = 0; i < 10; i++) await s.write(frameFor('wall-1', png, ARCHIVE_T0 - 60_000 + i));
  const wall: number[] = [];
  const cpu0 = cpuMs();
  for (let i = 0; i < FRAMES; i++) {
    const t = performance.now();
    await s.write(frameFor(CANVASES[i % 4]!, png, ARCHIVE_T0 + i * 250, { seq: i }));
    wall.push(performance.now() - t);
  }
  const cpuPerFrame = (cpuMs() - cpu0) / FRAMES;
  await s.close();
  return { name, pngKiB: png.length / 1024, frames: FRAMES, cpuMsPerFrame: cpuPerFrame, wallMs: summary(wall) };
}

async function buildArchive(dir: string) {
  const random = createRandom(7);
  const pick = () => WORDS[Math.floor(random() * WORDS.length)]!;
  const png = await tinyPng();
  const started = performance.now();
  for (let from = 0; from < ENTRIES; from += 5000) {
    const frames = [];
    for (let i = from; i < Math.min(ENTRIES, from + 5000); i++) {
      const words = Array.from({ length: 6 + Math.floor(random() * 5) }, pick);
      frames.push(frameFor(CANVASES[i % 4]!, png, ARCHIVE_T0 + i * 250, { prompt: words.join(' '), seq: i }));
    }
    writeArchiveFiles(dir, frames);
  }
  return (performance.now() - started) / 1000;
}

const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

async function benchOpen(dir: string) {
  gc();
  const heap0 = process.memoryUsage().heapUsed;
  let t = performance.now();
  let cpu = cpuMs();
  const rebuilt = store(dir);
  await rebuilt.open();
  const rebuild = { wallMs: performance.now() - t, cpuMs: cpuMs() - cpu };
  gc();
  const heapMiB = (process.memoryUsage().heapUsed - heap0) / 1048576;
  await rebuilt.close();
  t = performance.now();
  cpu = cpuMs();
  const cached = store(dir);
  await cached.open();
  const withIndex = { wallMs: performance.now() - t, cpuMs: cpuMs() - cpu };
  return { rebuild, withIndex, heapMiB, store: cached };
}

async function benchList(s: ReturnType<typeof store>) {
  const all = [...s.select({})];
  const deep = all[Math.floor(all.length * 0.9)]!;
  const deepCursor = encodeCursor({ t: Date.parse(deep.madeAt), id: deep.id });
  for (let i = 0; i < all.length; i += 1000) await s.setStarred(all[i]!.id, true);
  const cases: Array<[string, () => unknown]> = [
    ['first page, no filter', () => s.list({}, 50)],
    ['first page, one canvas', () => s.list({ canvas: 'lobby' }, 50)],
    ['first page, text: one common word', () => s.list({ text: 'harbour' }, 50)],
    ['first page, text: two words', () => s.list({ text: 'harbour fog' }, 50)],
    ['first page, text: three words (rare)', () => s.list({ text: 'harbour fog lantern' }, 50)],
    ['first page, text matching nothing (whole scan)', () => s.list({ text: 'submarine' }, 50)],
    ['first page, starred (1 in 1000)', () => s.list({ starred: true }, 50)],
    ['deep cursor (90% down), no filter', () => s.list({}, 50, deepCursor)],
    ['deep cursor, text: one common word', () => s.list({ text: 'harbour' }, 50, deepCursor)],
    ['one hour, one canvas', () => s.list({ canvas: 'wall-2', from: ARCHIVE_T0 + 3_600_000, to: ARCHIVE_T0 + 7_200_000 }, 50)],
  ];
  return cases.map(([name, fn]) => {
    const samples: number[] = [];
    for (let i = 0; i < 5; i++) fn();
    for (let i = 0; i < 100; i++) {
      const t = performance.now();
      fn();
      samples.push(performance.now() - t);
    }
    return { name, ...summary(samples) };
  });
}

function machine(): string {
  const m = machineInfo();
  return `${machineLine(m)}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}; load average ${m.loadAverage.join(' / ')} at start`;
}

const tmp = mkdtempSync(path.join(os.tmpdir(), 'easel-bench-archive-'));
try {
  const host = machine();
  const writes = [];
  for (const { name, png } of await frames512()) writes.push(await benchWrite(path.join(tmp, name), name, png));
  const dir = path.join(tmp, 'big');
  await mkdir(dir);
  const buildS = await buildArchive(dir);
  const opened = await benchOpen(dir);
  const list = await benchList(opened.store);
  await opened.store.close();
  const thumbs = await benchThumbs(path.join(tmp, 'thumbs'));
  const f = (n: number) => n.toFixed(2);
  const md = [
    '# Archive benchmark',
    '',
    `Machine: ${host}`,
    `Date: ${new Date().toISOString()}`,
    '',
    'On a shared box the wall times are mostly waiting for a core (see the load average): the CPU',
    'figures are the cost.',
    '',
    `## Writing a frame (${FRAMES} frames of a 512x512 PNG per row, one at a time)`,
    '',
    'CPU is the whole process (main thread, libuv and libvips threads) over the writes, divided by',
    'the frames; "share of a core" is that at 4 FPS on 8 generating canvases (32 frames/s).',
    '',
    '| PNG | KiB | CPU ms/frame | share of a core at 32 frames/s | wall ms median | wall ms p90 | wall ms max |',
    '|---|--:|--:|--:|--:|--:|--:|',
    ...writes.map(
      (w) =>
        `| ${w.name} | ${w.pngKiB.toFixed(0)} | ${f(w.cpuMsPerFrame)} | ${((w.cpuMsPerFrame * 32) / 10).toFixed(1)}% | ` +
        `${f(w.wallMs.median)} | ${f(w.wallMs.p90)} | ${f(w.wallMs.max)} |`,
    ),
    '',
    `## Opening ${ENTRIES.toLocaleString('en')} entries`,
    '',
    `(Laid down in ${buildS.toFixed(1)} s.)`,
    '',
    '| | wall s | CPU s |',
    '|---|--:|--:|',
    `| Index rebuilt from the .json files | ${(opened.rebuild.wallMs / 1000).toFixed(2)} | ${(opened.rebuild.cpuMs / 1000).toFixed(2)} |`,
    `| Opened with index.jsonl | ${(opened.withIndex.wallMs / 1000).toFixed(2)} | ${(opened.withIndex.cpuMs / 1000).toFixed(2)} |`,
    '',
    `Heap held by the entries in memory: ${opened.heapMiB.toFixed(0)} MiB.`,
    '',
    `## Listing ${ENTRIES.toLocaleString('en')} entries (50 per page, 100 calls each)`,
    '',
    '| Query | ms median | ms p90 | ms max |',
    '|---|--:|--:|--:|',
    ...list.map((r) => `| ${r.name} | ${f(r.median)} | ${f(r.p90)} | ${f(r.max)} |`),
    '',
    ...thumbsMarkdown(thumbs),
  ].join('\n');
  console.log(md);
  await mkdir(RESULTS_DIR, { recursive: true });
  await writeFile(new URL('archive.md', RESULTS_DIR), md);
  const json = { machine: host, entries: ENTRIES, writes, open: { ...opened, store: undefined }, list, thumbs };
  await writeFile(new URL('archive.json', RESULTS_DIR), `${JSON.stringify(json, null, 2)}\n`);
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
