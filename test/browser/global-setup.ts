import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { build } from 'vite';
import { PROJECT_ROOT } from '../../server/config.js';

const DISPLAY = path.join(PROJECT_ROOT, 'display');
const BUILT = ['c.html', 'wall.html', 'operator.html', 'gallery.html'].map((f) => path.join(DISPLAY, 'dist', f));

/** Newest mtime of everything the display build is made from. */
function newestSource(): number {
  let newest = 0;
  const visit = (p: string) => {
    const info = statSync(p);
    if (info.isDirectory()) for (const name of readdirSync(p)) visit(path.join(p, name));
    else newest = Math.max(newest, info.mtimeMs);
  };
  visit(path.join(DISPLAY, 'src'));
  for (const name of ['c.html', 'wall.html', 'operator.html', 'gallery.html', 'vite.config.ts', 'tsconfig.json'])
    visit(path.join(DISPLAY, name));
  return newest;
}

/**
 * The browser tests load the pages the server serves from display/dist. Builds them (vite's
 * JS API, once per run) when they are missing or older than display/src, so a plain
 * `npx vitest run test/browser` always tests the current source.
 */
export default async function setup(): Promise<void> {
  const builtAt = BUILT.every((f) => existsSync(f)) ? Math.min(...BUILT.map((f) => statSync(f).mtimeMs)) : 0;
  if (builtAt > newestSource()) return;
  await build({ configFile: path.join(DISPLAY, 'vite.config.ts'), logLevel: 'warn' });
}
