/**
 * Files that must be whole after a power cut: written to a temporary file in the same folder,
 * synced, then renamed over the old one, so a reader finds the old version or the new one and
 * never half of either.
 */
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';

let sequence = 0;
const TEMP = /\.\d+-\d+\.tmp$/;

export async function writeFileAtomic(file: string, data: string | Buffer): Promise<void> {
  const dir = path.dirname(file);
  await mkdir(dir, { recursive: true });
  const temp = `${file}.${process.pid}-${++sequence}.tmp`;
  try {
    const handle = await open(temp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  // The rename itself lasts only once the folder is synced; not every platform allows that.
  const folder = await open(dir, 'r').catch(() => undefined);
  await folder?.sync().catch(() => undefined);
  await folder?.close();
}

/** Temporary files a killed process left next to `file`. */
export async function removeLeftovers(file: string): Promise<void> {
  const base = path.basename(file);
  const names = await readdir(path.dirname(file)).catch(() => [] as string[]);
  await Promise.all(
    names.filter((n) => n.startsWith(`${base}.`) && TEMP.test(n)).map((n) => rm(path.join(path.dirname(file), n), { force: true })),
  );
}

/**
 * The JSON in `file`, checked by `parse`; undefined when there is none. A file that cannot be
 * read or parsed is moved aside as `<file>.corrupt-<time>` with one warning: start-up goes on.
 */
export async function readJsonFile<T>(file: string, parse: (json: unknown) => T, log: Logger): Promise<T | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    return quarantine(file, err as Error, log);
  }
  try {
    return parse(JSON.parse(text));
  } catch (err) {
    return quarantine(file, err as Error, log);
  }
}

async function quarantine(file: string, err: Error, log: Logger): Promise<undefined> {
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  const moved = await rename(file, aside).then(
    () => true,
    () => false,
  );
  log.warn(
    { file, movedTo: moved ? aside : undefined, reason: err.message },
    `State file "${file}" cannot be used (${err.message}); ${moved ? `moved it to "${aside}" and` : ''} starting from the configuration`,
  );
  return undefined;
}

export interface DebouncedWriter {
  /** Something changed: write soon, at most once per interval. */
  changed(): void;
  /** Writes now if anything changed, after any write in flight; later changes are ignored. */
  close(): Promise<void>;
}

/**
 * Runs `write` after a change, at most once per `intervalMs`: the first change after a quiet
 * spell is written at once, the ones that follow together at the end of the interval. Writes
 * never overlap, and a failed one is logged once per kind of failure, not once per change.
 */
export function createDebouncedWriter(options: {
  write: () => Promise<void>;
  clock: Clock;
  intervalMs?: number;
  logger: Logger;
  file: string;
}): DebouncedWriter {
  const { clock, write, logger: log } = options;
  const intervalMs = options.intervalMs ?? 1000;
  let dirty = false;
  let timer: unknown = null;
  let writing: Promise<void> | undefined;
  let lastAt = -Infinity;
  let closed = false;
  let failing: string | undefined;

  const attempt = async () => {
    dirty = false;
    try {
      await write();
      if (failing) log.info({ file: options.file }, 'State file written again');
      failing = undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
      if (failing !== code)
        log.warn(
          { file: options.file, err },
          `Cannot write the state file "${options.file}"; runtime changes will not survive a restart until it can`,
        );
      failing = code;
    }
  };

  const run = () => {
    timer = null;
    writing = attempt().finally(() => {
      writing = undefined;
      lastAt = clock.now();
      if (dirty && !closed) schedule();
    });
  };

  const schedule = () => {
    if (timer !== null || writing) return;
    timer = clock.setTimeout(run, Math.max(0, lastAt + intervalMs - clock.now()));
  };

  return {
    changed() {
      if (closed) return;
      dirty = true;
      schedule();
    },
    async close() {
      if (closed) return;
      closed = true;
      if (timer !== null) clock.clearTimeout(timer);
      timer = null;
      await writing;
      if (dirty) await attempt();
    },
  };
}
