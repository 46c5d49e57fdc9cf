import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { archiveDir, archiveStoreFor, removeArchiveDirs } from '../../test/support/archive-fixtures.js';
import { PROJECT_ROOT } from '../config.js';
import type { ArchiveEntry } from './archive-entry.js';

afterEach(() => removeArchiveDirs());

/** Runs the writer until it has written `count` entries, then SIGKILLs it. */
async function writeThenKill(dir: string, seed: number, count: number): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(PROJECT_ROOT, 'test/support/archive-writer.ts'), dir, String(seed)], {
    cwd: PROJECT_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let written = 0;
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      written += d.toString().split('\n').filter(Boolean).length;
      if (written >= count) resolve();
    });
    child.on('exit', (code) => reject(new Error(`writer exited (${code}) after ${written} entries: ${stderr}`)));
  });
  child.kill('SIGKILL');
  expect(await exited).toBe('SIGKILL');
  return written;
}

/** What is on disk, looked at file by file, before any store opens it. */
function inspect(dir: string) {
  const found = { temp: 0, entries: [] as ArchiveEntry[], orphans: 0, problems: [] as string[] };
  for (const canvas of readdirSync(dir).filter((f) => f.startsWith('wall-'))) {
    for (const day of readdirSync(path.join(dir, canvas))) {
      const folder = path.join(dir, canvas, day);
      const files = readdirSync(folder);
      for (const f of files) {
        if (f.endsWith('.tmp')) {
          found.temp++;
          continue;
        }
        const [name, ext] = f.split('.') as [string, string];
        const hash = name.split('-')[1];
        if (ext === 'json') {
          const entry = JSON.parse(readFileSync(path.join(folder, f), 'utf8')) as ArchiveEntry; // throws if cut short
          found.entries.push(entry);
          const image = path.join(dir, entry.file);
          try {
            if (statSync(image).size !== entry.bytes) found.problems.push(`${f}: image size differs`);
          } catch {
            // Only a removal that was cut short (image deleted first) leaves this.
          }
        } else {
          // Every image under its final name is whole: its bytes hash to its name.
          const data = readFileSync(path.join(folder, f));
          if (createHash('sha256').update(data).digest('hex').slice(0, 8) !== hash) found.problems.push(`${f}: partial image`);
          if (!files.includes(`${name}.json`)) found.orphans++;
        }
      }
    }
  }
  return found;
}

describe('the archive after kill -9', () => {
  it('holds whole entries only, and its index rebuilds, after kills in the middle of writes', async () => {
    const dir = archiveDir();
    for (const [round, count] of [40, 25, 60].entries()) {
      await writeThenKill(dir, round + 1, count);
      const disk = inspect(dir);
      expect(disk.problems).toEqual([]);

      const { store, lines } = archiveStoreFor(dir, { maxBytes: 40 * 1024 * 1024 });
      await store.open();
      const listed = [...store.select({})];
      // Every entry listed has its image and .json; every whole entry on disk is listed.
      for (const e of listed) expect(statSync(store.imagePath(e)).size).toBe(e.bytes);
      const withImage = disk.entries.filter((e) => {
        try {
          return statSync(path.join(dir, e.file)).isFile();
        } catch {
          return false;
        }
      });
      expect(listed.map((e) => e.id).sort()).toEqual(withImage.map((e) => e.id).sort());
      const after = inspect(dir);
      expect(after.temp).toBe(0);
      expect(after.entries.length).toBe(listed.length);
      expect(lines.filter((l) => /has no metadata/.test(String(l.msg)))).toHaveLength(after.orphans);
      await store.close();

      // The index is whole again: the next open reads it as it is.
      const again = archiveStoreFor(dir, { maxBytes: 40 * 1024 * 1024 });
      await again.store.open();
      expect([...again.store.select({})]).toEqual(listed);
      expect(again.lines.filter((l) => /rebuilt|in step/.test(String(l.msg)))).toEqual([]);
      await again.store.close();
    }
  }, 120_000);
});
