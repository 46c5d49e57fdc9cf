/**
 * Proof of play (docs/archive.md): `plays/<YYYY-MM-DD>.jsonl` in the archive folder, one line
 * per frame a canvas showed, for every canvas, in the order shown. A day's file is the server's
 * local day of the frame's screen time: a new one starts at midnight, and files older than
 * `keepDays` are deleted then (and at start). Lines are appended off the slot path through one
 * open stream; a line waits for its frame's archive id, so it names the entry.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { once } from 'node:events';
import path from 'node:path';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';

export interface PlayLine {
  /** ISO-8601: when the frame went on screen (presentAt, else its slot time). */
  at: string;
  canvas: string;
  seq: number;
  imageId: string;
  source: string;
  /** The file shown, for folder and still images; null otherwise. */
  file: string | null;
  /** The archive entry, for kept frames; null otherwise. */
  archiveId: string | null;
  displays: number;
}

export interface PlayLogOptions {
  /** The folder of the day files (`<archive.dir>/plays`); made when missing. */
  dir: string;
  /** Days of files kept, today included. */
  keepDays: number;
  clock: Clock;
  logger: Logger;
  /** Lines waiting at most; past it a line is dropped and counted. Default 4096. */
  maxPending?: number;
}

export interface PlayLog {
  /** Queues a line; `archiveId` may still be on its way (the line waits for it). Never waits. */
  append(line: Omit<PlayLine, 'archiveId'>, archiveId: Promise<string | null> | string | null): void;
  counts(): { lines: number; dropped: number; pending: number };
  /** Deletes the day files older than keepDays. */
  sweep(): Promise<void>;
  /** Writes what is queued and closes the file. */
  close(): Promise<void>;
}

const DAY_MS = 86_400_000;
const DAY_FILE = /^(\d{4}-\d{2}-\d{2})\.jsonl$/;

/** `YYYY-MM-DD` of an instant, server local time. */
export function localDay(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

export function createPlayLog(options: PlayLogOptions): PlayLog {
  const { dir, clock, logger: log } = options;
  const maxPending = options.maxPending ?? 4096;
  const limiter = createLogLimiter({ now: () => clock.now() });
  const queue: Array<{ line: Omit<PlayLine, 'archiveId'>; archiveId: Promise<string | null> | string | null }> = [];
  const counts = { lines: 0, dropped: 0 };
  let stream: { day: string; out: WriteStream } | undefined;
  let draining: Promise<void> | undefined;
  let closed = false;
  let warnedFull = false;

  function trouble(kind: string, err: unknown, message: string): void {
    const left = limiter.take(kind);
    if (left !== undefined) log.warn({ dir, err, leftOut: left }, message);
  }

  async function endStream(): Promise<void> {
    const old = stream;
    stream = undefined;
    if (!old || old.out.closed) return;
    old.out.end();
    await once(old.out, 'close').catch(() => undefined);
  }

  async function streamFor(day: string): Promise<WriteStream> {
    if (stream?.day === day) return stream.out;
    const rotating = stream !== undefined;
    await endStream();
    await mkdir(dir, { recursive: true });
    const out = createWriteStream(path.join(dir, `${day}.jsonl`), { flags: 'a' });
    // A failed write ends this stream; the next line opens the file again.
    out.on('error', (err) => {
      trouble('play-log-write', err, `Proof of play: cannot write to "${dir}": ${err.message}`);
      if (stream?.out === out) stream = undefined;
    });
    stream = { day, out };
    if (rotating) await sweep();
    return out;
  }

  async function drain(): Promise<void> {
    while (queue.length > 0) {
      const { line, archiveId } = queue.shift()!;
      const full: PlayLine = { ...line, archiveId: await archiveId };
      try {
        const out = await streamFor(localDay(Date.parse(line.at)));
        counts.lines += 1;
        if (!out.write(`${JSON.stringify(full)}\n`)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
      } catch (err) {
        trouble('play-log-open', err, `Proof of play: cannot open a log in "${dir}": ${(err as Error).message}`);
      }
    }
    warnedFull = false;
  }

  function kick(): void {
    draining ??= drain().finally(() => {
      draining = undefined;
      if (queue.length > 0 && !closed) kick();
    });
  }

  async function sweep(): Promise<void> {
    // Today counts as one of the days kept.
    const oldestKept = localDay(clock.now() - (options.keepDays - 1) * DAY_MS);
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') trouble('play-log-sweep', err, `Proof of play: cannot list "${dir}"`);
      return;
    }
    for (const name of names) {
      const day = DAY_FILE.exec(name)?.[1];
      if (day === undefined || day >= oldestKept || day === stream?.day) continue;
      await unlink(path.join(dir, name)).then(
        () => log.info({ file: name, keepDays: options.keepDays }, `Proof of play: deleted "${name}", older than ${options.keepDays} days`),
        (err: unknown) => trouble('play-log-sweep', err, `Proof of play: cannot delete "${name}"`),
      );
    }
  }

  return {
    append(line, archiveId) {
      if (closed) return;
      if (queue.length >= maxPending) {
        counts.dropped += 1;
        if (!warnedFull) {
          warnedFull = true;
          log.warn(
            { dir, maxPending },
            `Proof of play: ${maxPending} lines already wait to be written; lines are left out until the disk catches up`,
          );
        }
        return;
      }
      queue.push({ line, archiveId });
      kick();
    },
    counts: () => ({ ...counts, pending: queue.length }),
    sweep,
    async close() {
      closed = true;
      while (draining) await draining;
      await endStream();
    },
  };
}
