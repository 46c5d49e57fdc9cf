/**
 * Keeps something in step with a folder: the image folder of a canvas, the playlist folder, the
 * display build. fs.watch says quickly that something changed, but it drops events on network
 * shares and cannot watch a folder that does not exist yet, so a periodic rescan backs it up.
 */
import { watch, type FSWatcher } from 'node:fs';
import type { Clock } from './clock.js';

/** Why a scan runs: a change event (after the quiet time), the safety-net timer, or a call. */
export type ScanReason = 'event' | 'timer' | 'call';

export interface FolderWatchOptions {
  dir: string;
  /**
   * Looks at the folder and resolves true when it could be read (it is then watched), false
   * when not (any watch is dropped; the periodic rescan watches again once it can). It handles
   * and logs its own errors: one that escapes a timed scan is dropped so the timers keep going.
   */
  scan: (reason: ScanReason) => Promise<boolean>;
  clock: Clock;
  /** Stops the watch and every timer. */
  signal: AbortSignal;
  /** Quiet time after a change event before scanning, so a save is read once, whole. Default 100 ms. */
  debounceMs?: number;
  /** Safety-net rescan, for file systems whose change events get lost. Default 5 s. */
  rescanIntervalMs?: number;
}

export interface FolderWatch {
  /** Scans now, after any scan under way: scans never overlap. */
  rescan(): Promise<void>;
  /** Scans once `ms` have passed without a change event or another call; replaces a pending one. */
  rescanAfter(ms: number): void;
}

/**
 * @example
 * const controller = new AbortController();
 * const folder = watchFolder({ dir, clock, signal: controller.signal, scan: async () => readTheFolder() });
 * await folder.rescan(); // the first look; later ones follow changes on their own
 * controller.abort();    // stops watching
 */
export function watchFolder(options: FolderWatchOptions): FolderWatch {
  const { clock, dir, signal } = options;
  const debounceMs = options.debounceMs ?? 100;
  const rescanIntervalMs = options.rescanIntervalMs ?? 5000;
  let watcher: FSWatcher | undefined;
  let quiet: unknown = null;
  let periodic: unknown = null;
  let chain: Promise<unknown> = Promise.resolve();

  // A timer that would keep the process alive after everything else closed helps nobody.
  const later = (fn: () => void, ms: number) => {
    const handle = clock.setTimeout(fn, ms);
    (handle as { unref?: () => void } | null)?.unref?.();
    return handle;
  };

  const unwatch = () => {
    watcher?.close();
    watcher = undefined;
  };

  const ensureWatching = () => {
    if (watcher || signal.aborted) return;
    try {
      watcher = watch(dir, { persistent: false }, () => rescanAfter(debounceMs, 'event'));
      watcher.on('error', unwatch);
    } catch {
      watcher = undefined; // the periodic rescan still notices changes, and tries again
    }
  };

  const run = (reason: ScanReason): Promise<void> => {
    const next = chain.then(async () => {
      if (signal.aborted) return;
      const readable = await options.scan(reason);
      if (readable) ensureWatching();
      else unwatch();
    });
    chain = next.catch(() => undefined);
    return next;
  };

  function rescanAfter(ms: number, reason: ScanReason = 'call'): void {
    if (signal.aborted) return;
    if (quiet !== null) clock.clearTimeout(quiet);
    quiet = later(() => {
      quiet = null;
      void run(reason).catch(() => undefined);
    }, ms);
  }

  const tick = () => {
    periodic = later(() => {
      void run('timer')
        .catch(() => undefined)
        .finally(() => {
          if (!signal.aborted) tick();
        });
    }, rescanIntervalMs);
  };

  signal.addEventListener(
    'abort',
    () => {
      unwatch();
      if (quiet !== null) clock.clearTimeout(quiet);
      if (periodic !== null) clock.clearTimeout(periodic);
      quiet = periodic = null;
    },
    { once: true },
  );
  if (!signal.aborted) tick();

  return { rescan: () => run('call'), rescanAfter: (ms) => rescanAfter(ms) };
}
