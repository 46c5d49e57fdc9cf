import { spawnSync } from 'node:child_process';
import { builtinModules } from 'node:module';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../server/config.js';

/**
 * What ships (`npm ci --omit=dev`, then `npm start:prod` or `npx easel`) must run on the
 * compiled tree and the runtime dependencies alone: no tsx, no tools/, no test/. Checked by
 * following the imports of both entry points through the sources, so no build is needed here.
 */

const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
  bin: Record<string, string>;
  dependencies: Record<string, string>;
};
const BUILT = ['protocol', 'server', 'cli'];
const ENTRIES = ['server/main.ts', 'cli/main.ts'];

/** Module specifiers a file loads at run time: `import type` and `export type` are erased. */
function runtimeImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm)) {
    if (!m[1]) found.push(m[2]!);
  }
  for (const m of source.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push(m[1]!);
  return found;
}

/** Every source file the entries reach, and every package they name. */
function reach(entries: string[]): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [...entries];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const spec of runtimeImports(readFileSync(path.join(PROJECT_ROOT, file), 'utf8'))) {
      if (spec.startsWith('.')) {
        queue.push(path.posix.normalize(path.posix.join(path.posix.dirname(file), spec.replace(/\.js$/, '.ts'))));
      } else if (!spec.startsWith('node:') && !builtinModules.includes(spec)) {
        const parts = spec.split('/');
        packages.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!);
      }
    }
  }
  return { files, packages };
}

describe('what ships', () => {
  const { files, packages } = reach(ENTRIES);

  it('reaches only the compiled folders from the server and CLI entry points', () => {
    expect(files.size).toBeGreaterThan(20);
    expect([...files].filter((f) => !BUILT.includes(f.split('/')[0]!))).toEqual([]);
  });

  it('needs only runtime dependencies, never a devDependency such as tsx', () => {
    expect([...packages].filter((p) => !(p in pkg.dependencies))).toEqual([]);
  });

  it('points `easel` at the compiled CLI, which the build emits with its #! line', () => {
    expect(pkg.bin).toEqual({ easel: 'dist/cli/main.js' });
    expect(readFileSync(path.join(PROJECT_ROOT, 'cli/main.ts'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
    // The build's own view of its inputs (no compile): cli/main.ts is one, under rootDir ".", outDir "dist".
    const tsc = path.join(PROJECT_ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json', '--showConfig'], { cwd: PROJECT_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const config = JSON.parse(r.stdout) as { files: string[]; compilerOptions: { rootDir: string; outDir: string } };
    expect(config.files).toContain('./cli/main.ts');
    expect(config.files.filter((f) => f.endsWith('.test.ts'))).toEqual([]);
    expect(path.join(config.compilerOptions.outDir, path.relative(config.compilerOptions.rootDir, 'cli/main.js'))).toBe(
      path.normalize(pkg.bin.easel!),
    );
  });
});
