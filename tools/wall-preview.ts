/**
 * Takes the README's picture of a wall preview: the real server with a 3x2 tiled canvas of the
 * bundled images, `/wall?grid=lobby` in headless Chromium (Playwright: `chromium --screenshot`
 * captures before the canvases draw), saved small to docs/wall-preview.png.
 *
 *   npx tsx tools/wall-preview.ts [out.png]
 */
import path from 'node:path';
import sharp from 'sharp';
import { PROJECT_ROOT } from '../server/config.js';
import { launchChromium, stats } from '../test/browser/browser.js';
import { startTestServer } from '../test/support/server.js';

const out = process.argv[2] ?? path.join(PROJECT_ROOT, 'docs', 'wall-preview.png');
const grid = { columns: 3, rows: 2, bezelPx: 60, tileWidth: 640, tileHeight: 360 };
const server = await startTestServer({
  EASEL_FOLDER: path.join(PROJECT_ROOT, 'assets'),
  EASEL_LOG_LEVEL: 'warn',
  EASEL_CANVASES: JSON.stringify([{ slug: 'lobby', fit: 'cover', fps: 0.5, tiles: grid }]),
});
const browser = await launchChromium();
try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 540 }, deviceScaleFactor: 1 });
  const page = await context.newPage();
  await page.goto(server.http('/wall?grid=lobby&label=0'));
  const tiles = grid.columns * grid.rows;
  for (let i = 0; i < 600; i++) {
    const all = await Promise.all(Array.from({ length: tiles }, (_, n) => stats(page, n).catch(() => null)));
    if (all.every((s) => (s?.framesShown ?? 0) > 0)) break;
    await page.waitForTimeout(100);
  }
  const png = await page.screenshot();
  await sharp(png).resize({ width: 960 }).png({ palette: true, quality: 80, effort: 10 }).toFile(out);
  console.log(`Wrote ${out}`);
} finally {
  await browser.close();
  await server.close();
}
