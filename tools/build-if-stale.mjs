#!/usr/bin/env node
// `npm start` runs this first: it builds only what is missing or older than its sources, so a
// fresh clone still works with `npm install && npm start` while a built checkout starts at
// once (a full build takes ~10 s). Plain JavaScript so it runs before anything is compiled.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const at = (...p) => path.join(root, ...p);

/** Newest mtime under the given files and folders, skipping build output and tests. */
function newest(entries) {
  let latest = 0;
  for (const entry of entries) {
    if (!existsSync(entry)) continue;
    const info = statSync(entry);
    if (info.isFile()) {
      latest = Math.max(latest, info.mtimeMs);
      continue;
    }
    for (const name of readdirSync(entry, { recursive: true })) {
      if (/(^|[/\\])(dist|node_modules)([/\\]|$)|\.test\.ts$/.test(name)) continue;
      const file = path.join(entry, name);
      const stat = statSync(file);
      if (stat.isFile()) latest = Math.max(latest, stat.mtimeMs);
    }
  }
  return latest;
}

const builtAt = (file) => (existsSync(file) ? statSync(file).mtimeMs : -1);
// A dependency update (package-lock.json) can change both outputs, the bundled Lit above all.
const shared = [at('package.json'), at('package-lock.json'), at('tsconfig.json')];
// One tsc run (build:server, tsconfig.build.json) compiles the server and the CLI together.
const parts = [
  {
    name: 'server and CLI',
    outputs: [at('dist', 'server', 'main.js'), at('dist', 'cli', 'main.js')],
    sources: [at('protocol'), at('server'), at('cli'), at('tsconfig.build.json'), ...shared],
    script: 'build:server',
  },
  {
    name: 'display pages',
    outputs: [at('display', 'dist', 'c.html')],
    sources: [at('display'), at('protocol'), ...shared],
    script: 'build:display',
  },
];

for (const part of parts) {
  // The oldest output counts, so a build from before the CLI was compiled is rebuilt.
  const built = Math.min(...part.outputs.map(builtAt));
  if (built >= newest(part.sources)) continue;
  process.stderr.write(
    `easel: ${built < 0 ? 'building' : 'rebuilding'} the ${part.name} (${built < 0 ? 'not built yet' : 'sources changed'})\n`,
  );
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const run = spawnSync(npm, ['run', '--silent', part.script], { cwd: root, stdio: 'inherit' });
  if (run.status !== 0) process.exit(run.status ?? 1);
}
