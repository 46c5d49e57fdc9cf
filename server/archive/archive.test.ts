import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readPlays } from '../../test/support/archive-fixtures.js';
import { solidPng } from '../../test/support/images.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createFrame, stampFrame } from '../canvas/frame.js';
import type { RegistryEvent } from '../canvas/registry.js';
import { systemClock } from '../stream/clock.js';
import type { SourceImage } from '../stream/source.js';
import { connectArchive, type ArchiveOptions } from './archive.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** Canvases as the registry shows them to the archive: their events, config and display count. */
function canvases(list: Record<string, { archive?: boolean; displays: number }>) {
  const listeners = new Set<(event: RegistryEvent) => void>();
  let seq = 0;
  return {
    onEvent(listener: (event: RegistryEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get: (slug: string) => list[slug] && { config: { archive: list[slug].archive }, channel: { displays: { size: list[slug].displays } } },
    show(slug: string, image: SourceImage) {
      const frame = createFrame(image, new Map());
      stampFrame(frame, ++seq, systemClock.now(), undefined);
      for (const l of listeners) l({ type: 'frame', slug, frame });
    },
    get listening() {
      return listeners.size;
    },
  };
}

function start(c: ReturnType<typeof canvases>, extra: Partial<ArchiveOptions> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-archive-'));
  dirs.push(dir);
  const settings = { dir, maxMb: 100, maxAgeDays: 0, minFreeMb: 0, playLogDays: 90, thumbCacheMb: 16 };
  const archive = connectArchive({
    config: { archive: settings },
    canvases: c,
    clock: systemClock,
    logger: captureLogs().logger,
    ...extra,
  })!;
  const plays = () => readPlays(dir);
  return { archive, dir, plays };
}

const generated = async (id: string): Promise<SourceImage> => ({
  id,
  data: await solidPng('#336699', 32, 32),
  source: 'inference',
  createdAt: systemClock.now(),
  prompt: 'a harbour',
});

describe('connectArchive', () => {
  it('is nothing at all with archive.dir ""', () => {
    const c = canvases({});
    const settings = { dir: '', maxMb: 1, maxAgeDays: 0, minFreeMb: 0, playLogDays: 1, thumbCacheMb: 1 };
    expect(
      connectArchive({ config: { archive: settings }, canvases: c, clock: systemClock, logger: captureLogs().logger }),
    ).toBeUndefined();
    expect(c.listening).toBe(0);
  });

  it('keeps and logs the canvases this node produces with the archive on, writes what waits on close, then stops listening', async () => {
    const c = canvases({ wall: { displays: 2 }, quiet: { archive: false, displays: 1 }, elsewhere: { displays: 1 } });
    const { archive, plays } = start(c, { producedHere: (slug) => slug !== 'elsewhere' });
    expect(await archive.ready).toBe(true);
    c.show('wall', await generated('r/0'));
    c.show('quiet', await generated('r/1'));
    c.show('elsewhere', await generated('r/2'));
    c.show('wall', { id: 'f-1', data: Buffer.from('not read'), source: 'folder', createdAt: 0, file: '/srv/art/a.png' });
    c.show('wall', {
      id: 'a-1',
      data: Buffer.from('not read'),
      source: 'archive',
      createdAt: 0,
      archiveId: 'wall.20261201.190512345-ab12cd34',
    });
    await archive.close();
    expect(c.listening).toBe(0);
    const entries = [...archive.store.select({})];
    expect(entries.map((e) => [e.canvas, e.prompt, e.displays])).toEqual([['wall', 'a harbour', 2]]);
    expect(plays().map((l) => [l.canvas, l.source, l.file, l.archiveId])).toEqual([
      ['wall', 'inference', null, entries[0]!.id],
      ['wall', 'folder', '/srv/art/a.png', null],
      // Replayed from the archive: named by its entry, not kept again.
      ['wall', 'archive', null, 'wall.20261201.190512345-ab12cd34'],
    ]);
    expect(archive.counts()).toMatchObject({ written: 1, dropped: 0, failed: 0, entries: 1, playLines: 3 });
  });

  it('stays off, saying why once, when its folder cannot be made', async () => {
    const c = canvases({ wall: { displays: 1 } });
    const dir = mkdtempSync(path.join(tmpdir(), 'easel-archive-'));
    dirs.push(dir);
    const { logger, lines } = captureLogs();
    const blocked = path.join(dir, 'file');
    writeFileSync(blocked, 'a file, not a folder');
    const settings = { dir: path.join(blocked, 'archive'), maxMb: 1, maxAgeDays: 0, minFreeMb: 0, playLogDays: 1, thumbCacheMb: 1 };
    const archive = connectArchive({ config: { archive: settings }, canvases: c, clock: systemClock, logger })!;
    expect(await archive.ready).toBe(false);
    expect(c.listening).toBe(0);
    expect(lines.filter((l) => String(l.msg).startsWith('Archive cannot open'))).toHaveLength(1);
    await archive.close();
  });
});
