/**
 * Archive thumbnails: what a miss (decode, resize, WebP, write) and a hit (read from disk) cost,
 * and the hit rate of a gallery's traffic against a cache smaller than what it asks for. Part
 * of `npm run bench:archive`; alone: `npx tsx tools/bench/archive-thumbs.ts [--entries 300]
 * [--views 2000] [--out-dir DIR]` writes <DIR, default bench/results>/archive-thumbs.{json,md}.
 *
 * - First and second look: every entry once at w=320 (the gallery grid), then again.
 * - Visitors: `views` requests, newest entries far more often than old ones (index = N·r³), 80%
 *   at w=320 and 20% at w=1280 (the lightbox), against a cache holding a quarter of what they
 *   ask for, and against the default 256 MB.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import pino from 'pino';
import sharp from 'sharp';
import { createThumbCache } from '../../server/archive/thumb-cache.js';
import { createRandom } from '../support/random.js';
import { machineInfo, machineLine } from './support/machine.js';
import { isMain } from './support/main-module.js';

const logger = pino({ level: 'silent' });
const PIXELS = 40_000_000;

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

export interface ThumbBench {
  entries: number;
  originalKiB: number;
  firstLook: { missMsMedian: number; cpuMsPerMiss: number; thumbKiB: number };
  secondLook: { hitMsMedian: number; cpuMsPerHit: number; hitRate: number };
  visitors: Array<{ cacheMiB: number; views: number; hitRate: number; evictions: number; distinct: number }>;
}

export async function benchThumbs(tmp: string, entries = 300, views = 2000): Promise<ThumbBench> {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const original = await sharp(path.join(root, 'assets/12-dusk.jpg')).resize(512, 512, { fit: 'cover' }).png().toBuffer();
  const originals = path.join(tmp, 'originals');
  await mkdir(originals, { recursive: true });
  const files = Array.from({ length: entries }, (_, i) => {
    const file = path.join(originals, `${i}.png`);
    writeFileSync(file, original);
    return { id: `wall-1.20261201.${String(100000000 + i).padStart(9, '0')}-ab12cd34`, file };
  });

  const look = async (cache: ReturnType<typeof createThumbCache>) => {
    const ms: number[] = [];
    let bytes = 0;
    const cpu0 = cpuMs();
    for (const f of files) {
      const t = performance.now();
      const { data } = await cache.get(f.id, f.file, 320);
      ms.push(performance.now() - t);
      bytes += data.length;
    }
    return { ms, cpu: cpuMs() - cpu0, bytes };
  };
  const cache = createThumbCache({ dir: path.join(tmp, 'a'), maxBytes: 256 * 1024 * 1024, limitInputPixels: PIXELS, logger });
  const first = await look(cache);
  const second = await look(cache);
  const s = cache.stats();

  const random = createRandom(11);
  const traffic = Array.from({ length: views }, () => ({
    f: files[Math.floor(entries * random() ** 3)]!,
    w: random() < 0.8 ? 320 : 1280,
  }));
  const distinct = new Set(traffic.map((v) => `${v.w}/${v.f.id}`)).size;
  const visit = async (label: string, maxBytes: number) => {
    const c = createThumbCache({ dir: path.join(tmp, label), maxBytes, limitInputPixels: PIXELS, logger });
    for (const v of traffic) await c.get(v.f.id, v.f.file, v.w);
    const st = c.stats();
    return {
      cacheMiB: maxBytes / 1048576,
      views,
      hitRate: st.hits / (st.hits + st.misses),
      evictions: st.evictions,
      distinct,
      bytes: st.bytes,
    };
  };
  // The default cache keeps every thumbnail asked for: its size says what a quarter is.
  const whole = await visit('default', 256 * 1024 * 1024);
  const quarter = await visit('quarter', Math.round(whole.bytes / 4));
  const visitors = [quarter, whole].map(({ bytes: _b, ...v }) => v);
  return {
    entries,
    originalKiB: original.length / 1024,
    firstLook: { missMsMedian: median(first.ms), cpuMsPerMiss: first.cpu / entries, thumbKiB: first.bytes / entries / 1024 },
    secondLook: { hitMsMedian: median(second.ms), cpuMsPerHit: second.cpu / entries, hitRate: s.hits / (s.hits + s.misses) },
    visitors,
  };
}

export function thumbsMarkdown(r: ThumbBench): string[] {
  const f = (n: number) => n.toFixed(2);
  const pct = (n: number) => `${(n * 100).toFixed(1)}%`;
  return [
    `## Thumbnails (${r.entries} entries, 512x512 PNG originals of ${r.originalKiB.toFixed(0)} KiB)`,
    '',
    '| | ms median | CPU ms each | hit rate |',
    '|---|--:|--:|--:|',
    `| First look, w=320 (all made: decode, resize, WebP ${r.firstLook.thumbKiB.toFixed(1)} KiB, temp + rename) | ${f(r.firstLook.missMsMedian)} | ${f(r.firstLook.cpuMsPerMiss)} | 0% |`,
    `| Second look, w=320 (read from the disk cache) | ${f(r.secondLook.hitMsMedian)} | ${f(r.secondLook.cpuMsPerHit)} | ${pct(r.secondLook.hitRate)} |`,
    '',
    'Visitors: newest entries far more often than old ones, 80% grid (w=320), 20% lightbox (w=1280):',
    '',
    '| Cache MiB | views | distinct thumbnails | hit rate | evictions |',
    '|--:|--:|--:|--:|--:|',
    ...r.visitors.map((v) => `| ${v.cacheMiB.toFixed(2)} | ${v.views} | ${v.distinct} | ${pct(v.hitRate)} | ${v.evictions} |`),
    '',
  ];
}

if (isMain(import.meta.url)) {
  const args = parseArgs({
    options: { entries: { type: 'string', default: '300' }, views: { type: 'string', default: '2000' }, 'out-dir': { type: 'string' } },
  }).values;
  const root = new URL('../../', import.meta.url);
  const out = args['out-dir'] ? pathToFileURL(`${fileURLToPath(new URL(args['out-dir'], root))}/`) : new URL('bench/results/', root);
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'easel-bench-thumbs-'));
  try {
    const m = machineInfo();
    const host = `${machineLine(m)}, sharp ${sharp.versions.sharp}, libvips ${sharp.versions.vips}; load average ${m.loadAverage.join(' / ')} at start`;
    const result = await benchThumbs(tmp, Number(args.entries), Number(args.views));
    const md = ['# Archive thumbnails benchmark', '', `Machine: ${host}`, `Date: ${m.date}`, '', ...thumbsMarkdown(result)].join('\n');
    console.log(md);
    await mkdir(out, { recursive: true });
    await writeFile(new URL('archive-thumbs.md', out), md);
    await writeFile(new URL('archive-thumbs.json', out), `${JSON.stringify({ machine: host, ...result }, null, 2)}\n`);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}
