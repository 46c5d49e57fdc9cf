import { createHash } from 'node:crypto';
import type { Dirent, Stats } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { isEaselError } from '../errors.js';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { Clock } from './clock.js';
import { watchFolder, type ScanReason } from './folder-watch.js';
import type { Source, SourceImage, SourceStatus } from './source.js';
import { isTransientFsError, TRANSIENT_RETRY_MS } from './transient-error.js';

export const IMAGE_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp', '.avif', '.tif', '.tiff', '.gif']);

export interface FolderSourceOptions {
  path: string;
  /** 'name': natural name order; 'shuffle': a new random order every loop. */
  order: 'name' | 'shuffle';
  maxFileBytes: number;
  logger: Logger;
  clock: Clock;
  random?: () => number;
  /** Safety-net rescan, for file systems whose change events get lost (network shares). */
  rescanIntervalMs?: number;
  /** A file modified more recently than this is still being copied: it waits its turn. */
  settleMs?: number;
  /** Reads a file; injected so tests can make reads fail as they do when descriptors run out. */
  readFile?: (file: string) => Promise<Buffer>;
}

const byName = new Intl.Collator('en', { numeric: true, sensitivity: 'base' }).compare;

/**
 * Loops over the images of a folder, watching it so that files added or removed show up
 * without a restart. A newly added image is shown next. A file that cannot be shown is skipped
 * until it changes, and logged once; one that failed for want of file descriptors (EMFILE and
 * the like) is tried again a moment later and never marked bad. With only one usable image the source has nothing new, so
 * the canvas holds on it instead of resending it.
 */
export function createFolderSource(options: FolderSourceOptions): Source & { rescan(): Promise<void> } {
  const { clock, logger: log } = options;
  const dir = path.resolve(options.path);
  const random = options.random ?? Math.random;
  const settleMs = options.settleMs ?? 500;
  const read = options.readFile ?? ((file: string) => readFile(file));
  // Under descriptor exhaustion every read fails: one line a minute says so, not one per file.
  const transientLog = createLogLimiter({ now: () => clock.now() });
  const transient = (err: unknown, what: string) => {
    const suppressed = transientLog.take('transient');
    if (suppressed !== undefined) {
      log.warn(
        { folder: dir, code: (err as NodeJS.ErrnoException).code, suppressed },
        `Cannot ${what} for now (${(err as Error).message}); trying again shortly`,
      );
    }
  };

  let names: string[] = [];
  let scanned = false;
  let deck: string[] = [];
  const newcomers: string[] = [];
  /** name → signature (mtime:size) of the version that could not be shown. */
  const bad = new Map<string, string>();
  const issued = new Map<string, string>(); // image id → name, for reject()
  let cursor: string | undefined;
  let lastId: string | undefined;
  let problem: SourceStatus | undefined;
  const stop = new AbortController();
  let skipped = 0;
  const wakers = new Set<() => void>();

  const wake = () => {
    for (const w of [...wakers]) w();
  };

  const report = (next: SourceStatus | undefined) => {
    if (next?.reason !== problem?.reason && next) log.warn({ folder: dir, code: next.code, hint: next.hint }, next.reason);
    else if (!next && problem) log.info({ folder: dir, images: names.length }, 'Folder source has images again');
    problem = next;
  };

  /** Resolves whether the folder could be read. A change event also wakes next(): a file may have changed in place. */
  async function scan(reason: ScanReason): Promise<boolean> {
    const readable = await list();
    if (reason === 'event') wake();
    return readable;
  }

  async function list(): Promise<boolean> {
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch (err) {
      if (isTransientFsError(err)) {
        transient(err, 'list the folder'); // keep the names known
        return true;
      }
      const code = (err as NodeJS.ErrnoException).code;
      names = [];
      report({
        state: 'failed',
        code: 'EASEL_ERR_FOLDER_MISSING',
        reason: code === 'ENOENT' ? `Folder "${dir}" does not exist` : `Folder "${dir}" cannot be read: ${code ?? String(err)}`,
        hint: 'Create the folder or point the canvas source.path at a folder of images; Easel picks it up without a restart',
      });
      return false;
    }
    const found = entries
      .filter(
        (e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.') && IMAGE_EXTENSIONS.has(path.extname(e.name).toLowerCase()),
      )
      .map((e) => e.name)
      .sort(byName);
    if (scanned) {
      const before = new Set(names);
      for (const name of found) if (!before.has(name) && !newcomers.includes(name)) newcomers.push(name);
    }
    const changed = found.length !== names.length || found.some((n, i) => n !== names[i]);
    names = found;
    scanned = true;
    for (const name of bad.keys()) if (!found.includes(name)) bad.delete(name);
    if (names.length === 0) {
      report({
        state: 'waiting',
        code: 'EASEL_ERR_FOLDER_EMPTY',
        reason: `Folder "${dir}" has no images`,
        hint: 'Add JPEG, PNG, WebP, AVIF, TIFF or GIF files to it; they show up without a restart',
      });
    } else if (problem?.state !== 'degraded') report(undefined);
    if (changed) wake();
    return true;
  }

  const folder = watchFolder({ dir, scan, clock, signal: stop.signal, rescanIntervalMs: options.rescanIntervalMs });
  const rescan = () => folder.rescan();

  function refill() {
    if (options.order === 'name') {
      const after = cursor === undefined ? 0 : names.findIndex((n) => byName(n, cursor!) > 0);
      deck = after <= 0 ? [...names] : [...names.slice(after), ...names.slice(0, after)];
    } else {
      deck = [...names];
      for (let i = deck.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [deck[i], deck[j]] = [deck[j]!, deck[i]!];
      }
      // Never the same image twice in a row across the loop boundary.
      if (deck.length > 1 && deck[0] === cursor) deck.push(deck.shift()!);
    }
  }

  type Attempt = { image: SourceImage } | { skip: true } | { later: number };

  async function attempt(name: string): Promise<Attempt> {
    const file = path.join(dir, name);
    let info: Stats;
    try {
      info = await stat(file);
    } catch (err) {
      if (isTransientFsError(err)) {
        transient(err, `stat "${name}"`);
        return { later: TRANSIENT_RETRY_MS };
      }
      return { skip: true }; // removed since the last scan
    }
    if (!info.isFile()) return { skip: true };
    const signature = `${info.mtimeMs}:${info.size}`;
    if (bad.get(name) === signature) return { skip: true };
    // Against the real time, not the clock: mtimes are the file system's wall-clock time.
    const age = Date.now() - info.mtimeMs;
    if (age >= 0 && age < settleMs) return { later: settleMs - age };
    if (info.size > options.maxFileBytes) {
      markBad(
        name,
        signature,
        `File is ${info.size} bytes, over the limit of ${options.maxFileBytes}`,
        'EASEL_ERR_IMAGE_TOO_LARGE',
        'Make the file smaller or raise render.maxFileBytes',
      );
      return { skip: true };
    }
    const id = `f-${createHash('sha1').update(`${name}\0${signature}`).digest('base64url').slice(0, 12)}`;
    if (id === lastId) return { skip: true }; // the only usable image: nothing new to show
    let data: Buffer;
    try {
      data = await read(file);
    } catch (err) {
      if (isTransientFsError(err)) {
        transient(err, `read "${name}"`);
        return { later: TRANSIENT_RETRY_MS };
      }
      markBad(name, signature, `File cannot be read: ${(err as Error).message}`, 'EASEL_ERR_IMAGE_UNREADABLE', 'Check its permissions');
      return { skip: true };
    }
    issued.set(id, name);
    if (issued.size > 64) issued.delete(issued.keys().next().value!);
    return { image: { id, data, source: 'folder', createdAt: clock.now(), cacheKey: `${file}|${signature}`, file: path.resolve(file) } };
  }

  function markBad(name: string, signature: string, reason: string, code: string, hint: string) {
    bad.set(name, signature);
    skipped++;
    log.warn({ folder: dir, file: name, code, hint }, `Skipping image "${name}": ${reason}`);
  }

  function waitForChange(signal: AbortSignal, ms?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      let timer: unknown = null;
      const done = () => {
        wakers.delete(done);
        signal.removeEventListener('abort', onAbort);
        if (timer !== null) clock.clearTimeout(timer);
        resolve();
      };
      const onAbort = () => {
        done();
        reject(signal.reason);
      };
      wakers.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
      timer = clock.setTimeout(done, ms ?? options.rescanIntervalMs ?? 5000);
    });
  }

  return {
    kind: 'folder',
    rescan,

    async next(signal) {
      if (!scanned) await rescan();
      for (;;) {
        signal.throwIfAborted();
        let soonest = Infinity;
        const postponed: string[] = [];
        let tries = names.length + newcomers.length + 1;
        while (tries-- > 0) {
          const fromNewcomers = newcomers.length > 0;
          if (!fromNewcomers && deck.length === 0) refill();
          const name = fromNewcomers ? newcomers.shift() : deck.shift();
          if (name === undefined) break;
          const result = await attempt(name);
          signal.throwIfAborted();
          if ('image' in result) {
            newcomers.unshift(...postponed);
            if (!fromNewcomers) cursor = name;
            lastId = result.image.id;
            if (problem?.state === 'degraded') report(undefined);
            return result.image;
          }
          if ('later' in result) {
            soonest = Math.min(soonest, result.later);
            if (fromNewcomers) postponed.push(name);
          }
        }
        newcomers.unshift(...postponed);
        if (names.length > 0 && bad.size >= names.length) {
          report({
            state: 'degraded',
            code: 'EASEL_ERR_FOLDER_EMPTY',
            reason: `None of the ${names.length} images in folder "${dir}" can be shown`,
            hint: 'Replace the files logged as skipped with complete images under the pixel and size limits',
          });
        }
        await waitForChange(signal, Number.isFinite(soonest) ? soonest + 10 : undefined);
        if (Number.isFinite(soonest)) continue;
        await rescan();
      }
    },

    reject(image, err) {
      const name = issued.get(image.id);
      if (name === undefined) return;
      const signature = image.cacheKey?.split('|').pop() ?? '';
      if (lastId === image.id) lastId = undefined;
      if (isTransientFsError(err)) return transient(err, `render "${name}"`);
      const code = isEaselError(err) ? err.code : 'EASEL_ERR_IMAGE_UNREADABLE';
      const hint = isEaselError(err) ? err.hint : 'Re-export the image';
      markBad(name, signature, err.message, code, hint);
    },

    status() {
      const details = { path: dir, order: options.order, images: names.length, unusable: bad.size, skippedTotal: skipped };
      return problem ? { ...problem, details } : { state: 'ok', details };
    },

    async close() {
      stop.abort();
      wake();
    },
  };
}
