import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from './config.js';

/**
 * The contract lives in docs/, inside the repository: nothing may point at a design file or a
 * shared folder outside it, and every relative link in the README and docs/ must resolve.
 * The names are built from parts so this file does not match itself.
 */
const OUTSIDE = [['DESIGN', 'md'].join('.'), ['..', 'shared'].join('/'), ['', 'work', 'shared'].join('/')];
const SKIPPED = [/^package-lock\.json$/, /^bench\/results\//];

function trackedFiles(): string[] {
  return execFileSync('git', ['ls-files', '-z'], { cwd: PROJECT_ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
    .split('\0')
    .filter((f) => f !== '' && !SKIPPED.some((re) => re.test(f)));
}

/** Text files only: a NUL byte in the first 8 KiB marks a binary (images, fonts). */
function readText(file: string): string | undefined {
  const full = path.join(PROJECT_ROOT, file);
  if (!existsSync(full)) return undefined; // deleted in the work tree, not yet committed
  const bytes = readFileSync(full);
  if (bytes.subarray(0, 8192).includes(0)) return undefined;
  return bytes.toString('utf8');
}

function markdownDocs(): string[] {
  return trackedFiles().filter((f) => f === 'README.md' || /^docs\/[^/]+\.md$/.test(f));
}

describe('the docs', () => {
  it('are inside the repository: no tracked file points outside it', () => {
    const found: string[] = [];
    for (const file of trackedFiles()) {
      const text = readText(file);
      if (text === undefined) continue;
      text.split('\n').forEach((line, i) => {
        for (const needle of OUTSIDE) if (line.includes(needle)) found.push(`${file}:${i + 1}: ${needle}`);
      });
    }
    expect(found).toEqual([]);
  });

  it('link only to files that exist', () => {
    const docs = markdownDocs();
    expect(docs).toContain('README.md');
    expect(docs).toContain('docs/README.md');
    const broken: string[] = [];
    for (const file of docs) {
      const text = readFileSync(path.join(PROJECT_ROOT, file), 'utf8');
      for (const match of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = match[1]!;
        if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('#')) continue; // URLs and anchors
        const relative = decodeURIComponent(target.replace(/[#?].*$/, ''));
        if (!existsSync(path.resolve(PROJECT_ROOT, path.dirname(file), relative))) broken.push(`${file}: ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });

  it('are listed in docs/README.md, each of them', () => {
    const index = readFileSync(path.join(PROJECT_ROOT, 'docs/README.md'), 'utf8');
    const listed = [...index.matchAll(/\]\(([^)#\s]+\.md)\)/g)].map((m) => `docs/${m[1]}`);
    const docs = markdownDocs().filter((f) => f.startsWith('docs/') && f !== 'docs/README.md');
    expect(listed.sort()).toEqual(docs.sort());
  });
});
