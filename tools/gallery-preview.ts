/**
 * Takes the README's picture of the gallery: an archive filled through the real store with
 * painted landscapes (sky, sun, hills, water; what an image model makes at a venue, drawn with
 * sharp), the real server over it, `/gallery` in headless Chromium at 1280x800, saved to
 * docs/gallery.png.
 *
 *   npx tsx tools/gallery-preview.ts [out.png]
 */
import path from 'node:path';
import sharp from 'sharp';
import { createArchiveStore } from '../server/archive/archive-store.js';
import { PROJECT_ROOT } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { systemClock } from '../server/stream/clock.js';
import { launchChromium } from '../test/browser/browser.js';
import { startTestServer, tempFolder } from '../test/support/server.js';
import { createRandom } from './support/random.js';

const out = process.argv[2] ?? path.join(PROJECT_ROOT, 'docs', 'gallery.png');

/** Prompts with the light they ask for: sky top and bottom, sun, hills, water. */
const SCENES = [
  { prompt: 'a foggy harbour at dawn', sky: ['#5b6b8c', '#f0b99a'], sun: '#fff1d6', land: ['#3d4a63', '#2a3347'], water: '#6d7f9e' },
  { prompt: 'desert dunes under a violet dusk', sky: ['#2b1d4f', '#e77f6b'], sun: '#ffd1a1', land: ['#a4553f', '#6d2f32'], water: '' },
  {
    prompt: 'a quiet lake in a pine forest, morning mist',
    sky: ['#8fb3c9', '#e4ecd9'],
    sun: '#fffbe8',
    land: ['#2f5446', '#17302a'],
    water: '#8fb0b5',
  },
  { prompt: 'neon city skyline in the rain', sky: ['#0d0b26', '#6a2a7a'], sun: '#ff5fa8', land: ['#1c1840', '#0b0a1d'], water: '#31265c' },
  { prompt: 'snowy mountains at golden hour', sky: ['#3f6fb0', '#f4c37a'], sun: '#fff4c2', land: ['#d9dce6', '#7d87a3'], water: '' },
  {
    prompt: 'a red lighthouse on the cliffs, storm coming',
    sky: ['#2c3540', '#7d8790'],
    sun: '#dfe6ea',
    land: ['#3a3f33', '#1f231c'],
    water: '#3d5560',
  },
  {
    prompt: 'rice terraces at sunset, warm haze',
    sky: ['#f08a4b', '#ffd79a'],
    sun: '#fff0c9',
    land: ['#6f8a3a', '#3b5423'],
    water: '#e8a96b',
  },
  { prompt: 'aurora over a frozen fjord', sky: ['#04121f', '#1d6b5c'], sun: '#b4ffe0', land: ['#112230', '#07111a'], water: '#173a44' },
] as const;

/** One painting: a sky gradient, a sun, two ridges of hills, water that mirrors the sky, softened. */
async function paint(scene: (typeof SCENES)[number], seed: number, size = 768): Promise<Buffer> {
  const random = createRandom(seed);
  const ridge = (base: number, rough: number) => {
    const points: string[] = [`0,${size}`];
    for (let x = 0; x <= size; x += size / 12) points.push(`${Math.round(x)},${Math.round(base + (random() - 0.5) * rough)}`);
    points.push(`${size},${size}`);
    return points.join(' ');
  };
  const horizon = size * (0.55 + random() * 0.12);
  const sun = { x: size * (0.2 + random() * 0.6), y: horizon - size * (0.08 + random() * 0.25), r: size * (0.05 + random() * 0.06) };
  const water = scene.water
    ? `<rect y="${horizon}" width="${size}" height="${size - horizon}" fill="${scene.water}" opacity="0.9"/>
       <ellipse cx="${sun.x}" cy="${horizon + (horizon - sun.y) * 0.5}" rx="${sun.r * 0.9}" ry="${sun.r * 2.2}" fill="${scene.sun}" opacity="0.25"/>`
    : '';
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}">
    <defs>
      <linearGradient id="sky" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${scene.sky[0]}"/><stop offset="1" stop-color="${scene.sky[1]}"/></linearGradient>
      <linearGradient id="mist" x1="0" y1="0" x2="0" y2="1"><stop offset="0" stop-color="${scene.sky[1]}" stop-opacity="0"/><stop offset="0.6" stop-color="${scene.sky[1]}" stop-opacity="0.45"/><stop offset="1" stop-color="${scene.sky[1]}" stop-opacity="0"/></linearGradient>
      <radialGradient id="glow"><stop offset="0" stop-color="${scene.sun}" stop-opacity="0.7"/><stop offset="1" stop-color="${scene.sun}" stop-opacity="0"/></radialGradient>
    </defs>
    <rect width="${size}" height="${size}" fill="url(#sky)"/>
    <circle cx="${sun.x}" cy="${sun.y}" r="${sun.r * 4}" fill="url(#glow)"/>
    <circle cx="${sun.x}" cy="${sun.y}" r="${sun.r}" fill="${scene.sun}"/>
    <polygon points="${ridge(horizon - size * 0.12, size * 0.18)}" fill="${scene.land[0]}" opacity="0.85"/>
    ${water}
    <rect y="${horizon - size * 0.1}" width="${size}" height="${size * 0.14}" fill="url(#mist)"/>
    <polygon points="${ridge(scene.water ? size * 0.9 : horizon + size * 0.08, size * 0.12)}" fill="${scene.land[1]}"/>
  </svg>`;
  return sharp(Buffer.from(svg)).blur(2.2).modulate({ saturation: 1.1 }).png({ compressionLevel: 9 }).toBuffer();
}

const archive = tempFolder('easel-gallery-preview-');
const logger = createLogger({ level: 'warn', pretty: 'auto' });
const store = createArchiveStore({ dir: archive.dir, maxBytes: 0, maxAgeDays: 0, minFreeBytes: 0, clock: systemClock, logger });
await store.open();
const start = Date.parse('2026-12-01T19:00:00Z');
for (let i = 0; i < 24; i++) {
  const scene = SCENES[(i * 5) % SCENES.length]!;
  const canvas = i % 3 === 0 ? 'foyer' : 'wall-1';
  const madeAt = start + i * 97_000;
  await store.write({
    canvas,
    data: await paint(scene, 7 + i),
    meta: {
      canvas,
      source: 'inference',
      prompt: scene.prompt,
      seed: 7 + i,
      steps: 2,
      model: 'stabilityai/sdxl-turbo',
      madeAt: new Date(madeAt).toISOString(),
      shownAt: new Date(madeAt + 900).toISOString(),
      seq: 100 + i,
      displays: 3,
    },
  });
}
const stars = [...store.select({})].filter((_, n) => n % 5 === 1);
for (const entry of stars) await store.setStarred(entry.id, true);
await store.close();

const server = await startTestServer({
  EASEL_ARCHIVE_DIR: archive.dir,
  EASEL_LOG_LEVEL: 'warn',
  EASEL_CANVASES: JSON.stringify([{ slug: 'wall-1' }, { slug: 'foyer' }]),
});
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(server.http('/gallery'));
  await page.locator('easel-gallery .thumb').nth(17).waitFor();
  // Every thumbnail on screen decoded, so none is caught half drawn.
  for (let i = 0; i < 100; i++) {
    const pending = await page
      .locator('easel-gallery .thumb img')
      .evaluateAll(
        (imgs: Array<{ complete: boolean; naturalWidth: number }>) => imgs.filter((img) => !img.complete || img.naturalWidth === 0).length,
      );
    if (pending === 0) break;
    await page.waitForTimeout(100);
  }
  const png = await page.screenshot();
  await sharp(png).png({ palette: true, quality: 100, effort: 10, dither: 0.6 }).toFile(out);
  console.log(`Wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
  archive.remove();
}
