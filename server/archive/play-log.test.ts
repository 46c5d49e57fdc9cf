import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createPlayLog, localDay, type PlayLine } from './play-log.js';

const cleanups: Array<() => void> = [];
afterEach(() => {
  for (const c of cleanups.splice(0)) c();
});

function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-plays-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return path.join(dir, 'plays');
}

const readLines = (file: string) =>
  readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as PlayLine);

const line = (at: number, seq: number, extra: Partial<PlayLine> = {}) => ({
  at: new Date(at).toISOString(),
  canvas: 'wall-1',
  seq,
  imageId: `f-${seq}`,
  source: 'folder',
  file: `/srv/art/${seq}.png`,
  displays: 2,
  ...extra,
});

describe('the proof-of-play log', () => {
  it('starts a new file at local midnight and deletes the files older than keepDays', async () => {
    const dir = folder();
    mkdirSync(dir, { recursive: true });
    for (const name of ['2026-11-28.jsonl', '2026-11-29.jsonl', '2026-11-30.jsonl', 'notes.txt']) writeFileSync(path.join(dir, name), '');
    const beforeMidnight = new Date(2026, 11, 1, 23, 59, 59, 500).getTime(); // server local time
    const clock = new FakeClock(beforeMidnight);
    const { logger } = captureLogs();
    const plays = createPlayLog({ dir, keepDays: 3, clock, logger });
    await plays.sweep(); // at start: today and the two days before are kept
    expect(readdirSync(dir).sort()).toEqual(['2026-11-29.jsonl', '2026-11-30.jsonl', 'notes.txt']);

    plays.append(line(beforeMidnight, 1), null);
    plays.append(line(beforeMidnight + 250, 2), null);
    clock.advance(1000); // 00:00:00.5 the next day
    plays.append(line(clock.now(), 3), null);
    await plays.close();

    expect(readdirSync(dir).sort()).toEqual(['2026-11-30.jsonl', '2026-12-01.jsonl', '2026-12-02.jsonl', 'notes.txt']);
    expect(readLines(path.join(dir, '2026-12-01.jsonl')).map((l) => l.seq)).toEqual([1, 2]);
    expect(readLines(path.join(dir, '2026-12-02.jsonl'))).toEqual([
      {
        at: new Date(clock.now()).toISOString(),
        canvas: 'wall-1',
        seq: 3,
        imageId: 'f-3',
        source: 'folder',
        file: '/srv/art/3.png',
        archiveId: null,
        displays: 2,
      },
    ]);
    expect(plays.counts()).toEqual({ lines: 3, dropped: 0, pending: 0 });
  });

  it('keeps the order shown while a line waits for its archive id', async () => {
    const dir = folder();
    const now = new Date(2026, 11, 1, 12, 0, 0).getTime();
    const plays = createPlayLog({ dir, keepDays: 90, clock: new FakeClock(now), logger: captureLogs().logger });
    let give!: (id: string) => void;
    const id = new Promise<string>((resolve) => {
      give = resolve;
    });
    plays.append(line(now, 1, { source: 'inference', file: null, imageId: 'r/0' }), id);
    plays.append(line(now + 250, 2), null);
    give('wall-1.20261201.120000000-ab12cd34');
    await plays.close();
    const lines = readLines(path.join(dir, `${localDay(now)}.jsonl`));
    expect(lines.map((l) => [l.seq, l.archiveId])).toEqual([
      [1, 'wall-1.20261201.120000000-ab12cd34'],
      [2, null],
    ]);
  });

  it('says once that it cannot write, and goes on taking lines', async () => {
    const parent = folder().replace(/plays$/, '');
    const blocked = path.join(parent, 'a-file');
    writeFileSync(blocked, 'not a folder');
    const now = new Date(2026, 11, 1, 12, 0, 0).getTime();
    const { logger, lines } = captureLogs();
    const plays = createPlayLog({ dir: path.join(blocked, 'plays'), keepDays: 90, clock: new FakeClock(now), logger });
    for (let i = 0; i < 5; i++) plays.append(line(now + i, i), null);
    await plays.close();
    expect(lines.filter((l) => String(l.msg).startsWith('Proof of play: cannot open a log'))).toHaveLength(1);
    expect(plays.counts()).toMatchObject({ dropped: 0, pending: 0 });
  });

  it('drops and counts lines past its queue instead of growing without end', async () => {
    const dir = folder();
    const now = new Date(2026, 11, 1, 12, 0, 0).getTime();
    const { logger, lines } = captureLogs();
    const plays = createPlayLog({ dir, keepDays: 90, clock: new FakeClock(now), logger, maxPending: 4 });
    const never = new Promise<string | null>(() => undefined);
    for (let i = 0; i < 10; i++) plays.append(line(now + i, i), i === 0 ? never : null);
    // The first line waits for an id that never comes: one was taken, 4 wait, 5 were dropped.
    expect(plays.counts()).toMatchObject({ dropped: 5, pending: 4 });
    expect(lines.filter((l) => String(l.msg).includes('lines already wait'))).toHaveLength(1);
    expect(existsSync(path.join(dir, `${localDay(now)}.jsonl`))).toBe(false);
  });
});
