/**
 * The playlists of one folder (config/playlists/ by default), kept in step with the files: a
 * file saved in an editor or written by the API is reloaded within a moment, and a broken edit
 * keeps the previous version running while the error (file, line, column) is logged once and
 * shown in list(). The API writes through put() and delete().
 */
import { readdir, readFile, unlink } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { parseSlug } from '../canvas/slug.js';
import { writeFileAtomic } from '../control/state-file.js';
import { EaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { watchFolder } from '../stream/folder-watch.js';
import { NAME_HINT, parsePlaylist, PlaylistError } from './parse-playlist.js';
import type { Playlist } from './playlist-types.js';

export interface PlaylistStoreOptions {
  /** The folder of `<name>.yaml` files; created by the first put() when missing. */
  dir: string;
  clock: Clock;
  logger: Logger;
  /** Safety-net rescan, for file systems whose change events get lost. Default 5 s. */
  rescanIntervalMs?: number;
  /** Quiet time after a change event before rescanning, so a save is read once, whole. Default 100 ms. */
  debounceMs?: number;
  /** A file gone for less than this may be an editor's save-by-rename: its playlist stays. Default 1 s. */
  removeGraceMs?: number;
  /** Larger files are refused. Default 256 KiB. */
  maxFileBytes?: number;
}

export interface PlaylistEntry {
  name: string;
  file: string;
  /** 'error': the file as it is now does not parse; `playlist` is then the last good version, if any. */
  status: 'ok' | 'error';
  playlist?: Playlist;
  error?: PlaylistError;
  /** The file's text as it is now (broken or not). */
  text: string;
}

/** One row of list(): what a technician needs to see. */
export interface PlaylistListing {
  name: string;
  file: string;
  status: 'ok' | 'error';
  error?: { code: string; message: string; hint: string; line: number; column: number };
  /** The version that runs: the file's, or the last good one while the file is broken. */
  playlist?: Playlist;
}

export type PlaylistChange =
  | { type: 'added' | 'changed'; name: string; playlist: Playlist }
  | { type: 'invalid'; name: string; error: PlaylistError; previous?: Playlist }
  | { type: 'removed'; name: string };

export type PlaylistStore = ReturnType<typeof createPlaylistStore>;

const EXTENSIONS = ['.yaml', '.yml'];

/**
 * @example
 * const store = createPlaylistStore({ dir: 'config/playlists', clock: systemClock, logger });
 * await store.load();
 * store.onChange((change) => log.info(change, 'Playlist changed'));
 */
export function createPlaylistStore(options: PlaylistStoreOptions) {
  const { clock, dir } = options;
  const log = options.logger.child({ component: 'playlists' });
  const maxFileBytes = options.maxFileBytes ?? 256 * 1024;
  const removeGraceMs = options.removeGraceMs ?? 1000;
  const entries = new Map<string, PlaylistEntry>();
  const missingSince = new Map<string, number>();
  /** `.yml` files shadowed by a `.yaml` of the same name, warned about once. */
  const twins = new Set<string>();
  const listeners = new Set<(change: PlaylistChange) => void>();
  /** Scans, puts and deletes run one at a time, in order. */
  let queue: Promise<unknown> = Promise.resolve();
  const stop = new AbortController();
  let loaded: Promise<void> | undefined;
  let dirProblem: string | undefined;

  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const run = queue.then(task, task);
    queue = run.catch(() => undefined);
    return run;
  };

  const emit = (change: PlaylistChange) => {
    for (const listener of [...listeners]) {
      try {
        listener(change);
      } catch (err) {
        log.error({ err, playlist: change.name }, 'A playlist change listener failed');
      }
    }
  };

  /** Takes a file's text as the playlist's new state, logging and emitting what changed. */
  function accept(name: string, file: string, text: string, error?: PlaylistError): PlaylistEntry {
    const previous = entries.get(name);
    const parsed = error ? ({ ok: false, error } as const) : parsePlaylist(text, { file, name });
    if (parsed.ok) {
      const entry: PlaylistEntry = { name, file, status: 'ok', playlist: parsed.playlist, text };
      entries.set(name, entry);
      if (previous) log.info({ playlist: name, file, steps: parsed.playlist.steps.length }, `Playlist "${name}" reloaded`);
      emit({ type: previous?.playlist ? 'changed' : 'added', name, playlist: parsed.playlist });
      return entry;
    }
    const kept = previous?.playlist;
    const entry: PlaylistEntry = { name, file, status: 'error', error: parsed.error, text, ...(kept && { playlist: kept }) };
    entries.set(name, entry);
    const { line, column, code, hint } = parsed.error;
    log.warn(
      { playlist: name, file, line, column, code, hint, keptPrevious: Boolean(kept) },
      `${parsed.error.message}${kept ? '; the previous version keeps running' : ''}`,
    );
    emit({ type: 'invalid', name, error: parsed.error, ...(kept && { previous: kept }) });
    return entry;
  }

  function remove(name: string): void {
    if (!entries.delete(name)) return;
    missingSince.delete(name);
    log.info({ playlist: name }, `Playlist "${name}" removed`);
    emit({ type: 'removed', name });
  }

  /** Resolves whether the folder could be read. */
  async function scan(): Promise<boolean> {
    if (stop.signal.aborted) return false;
    let names: string[];
    try {
      names = (await readdir(dir, { withFileTypes: true }))
        .filter((e) => (e.isFile() || e.isSymbolicLink()) && !e.name.startsWith('.'))
        .map((e) => e.name);
      if (dirProblem) log.info({ dir }, 'Playlist folder readable again');
      dirProblem = undefined;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? String(err);
      if (code !== dirProblem)
        log.warn(
          { dir, code },
          code === 'ENOENT' ? `Playlist folder "${dir}" does not exist` : `Playlist folder "${dir}" cannot be read: ${code}`,
        );
      dirProblem = code;
      if (code !== 'ENOENT') return false; // keep what we have: this may pass
      names = [];
    }
    const files = new Map<string, string>();
    for (const file of names.sort()) {
      const ext = path.extname(file).toLowerCase();
      if (!EXTENSIONS.includes(ext)) continue;
      const name = file.slice(0, -ext.length);
      if (!files.has(name)) files.set(name, path.join(dir, file));
      else if (!twins.has(file)) {
        twins.add(file);
        log.warn({ playlist: name, file: path.join(dir, file) }, `Playlist "${name}" has two files; "${files.get(name)}" is used`);
      }
    }
    for (const [name, file] of files) {
      missingSince.delete(name);
      let text: string;
      try {
        const bytes = await readFile(file);
        if (bytes.length > maxFileBytes)
          throw Object.assign(new Error(`it is ${bytes.length} bytes, the most is ${maxFileBytes}`), { code: 'EFBIG' });
        text = bytes.toString('utf8');
      } catch (err) {
        const errno = err as NodeJS.ErrnoException;
        if (errno.code === 'ENOENT') continue; // removed since readdir: the next scan sees it
        const prev = entries.get(name);
        const message = `File cannot be read: ${errno.code === 'EFBIG' ? errno.message : (errno.code ?? String(err))}`;
        if (prev?.error?.problems[0]?.message !== message) {
          accept(name, file, '', new PlaylistError(file, [{ line: 1, column: 1, message, hint: 'Check the file permissions and size' }]));
        }
        continue;
      }
      const prev = entries.get(name);
      if (prev && prev.text === text && prev.file === file) continue;
      accept(name, file, text);
    }
    for (const name of [...entries.keys()]) {
      if (files.has(name)) continue;
      const since = missingSince.get(name) ?? clock.now();
      missingSince.set(name, since);
      const left = since + removeGraceMs - clock.now();
      if (left <= 0) remove(name);
      else folder.rescanAfter(left); // look again once an editor's save-by-rename is surely done
    }
    return !dirProblem;
  }

  const folder = watchFolder({
    dir,
    clock,
    signal: stop.signal,
    scan: () => serial(scan),
    debounceMs: options.debounceMs,
    rescanIntervalMs: options.rescanIntervalMs,
  });
  const rescan = () => folder.rescan();

  return {
    dir,

    /** Reads the folder and starts watching it; idempotent. */
    load(): Promise<void> {
      loaded ??= rescan();
      return loaded;
    },

    rescan,

    /** The version of a playlist that runs (the last good one while its file is broken). */
    get(name: string): Playlist | undefined {
      return entries.get(name)?.playlist;
    },

    entry(name: string): PlaylistEntry | undefined {
      return entries.get(name);
    },

    list(): PlaylistListing[] {
      return [...entries.values()]
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((e) => ({
          name: e.name,
          file: e.file,
          status: e.status,
          ...(e.error && {
            error: { code: e.error.code, message: e.error.message, hint: e.error.hint, line: e.error.line, column: e.error.column },
          }),
          ...(e.playlist && { playlist: e.playlist }),
        }));
    },

    /**
     * Validates a playlist body, YAML or JSON, then saves it as `<name>.yaml` (write to a
     * temporary file, then rename, so a reader never sees half a file). A JSON body is saved
     * as the equivalent YAML. Throws PlaylistError (positions in the body as sent) or
     * EASEL_ERR_PLAYLIST_INVALID for a bad name; nothing is written then.
     */
    put(name: string, body: string): Promise<PlaylistEntry> {
      return serial(async () => {
        if (!parseSlug(name).ok) {
          throw new EaselError('EASEL_ERR_PLAYLIST_INVALID', `Invalid playlist name "${name}"`, { hint: NAME_HINT, details: { name } });
        }
        const file = entries.get(name)?.file ?? path.join(dir, `${name}.yaml`);
        if (Buffer.byteLength(body) > maxFileBytes) {
          throw new EaselError(
            'EASEL_ERR_PLAYLIST_INVALID',
            `Playlist "${name}" is ${Buffer.byteLength(body)} bytes, the most is ${maxFileBytes}`,
            { hint: 'Split it into shorter playlists', details: { name } },
          );
        }
        const parsed = parsePlaylist(body, { file, name });
        if (!parsed.ok) throw parsed.error;
        const text = asYaml(body);
        await writeFileAtomic(file, text);
        return accept(name, file, text);
      });
    },

    /** Removes a playlist's file. Throws EASEL_ERR_NOT_FOUND when there is none. */
    delete(name: string): Promise<void> {
      return serial(async () => {
        const entry = entries.get(name);
        if (!entry) {
          throw new EaselError('EASEL_ERR_NOT_FOUND', `Playlist "${name}" does not exist`, {
            hint: `GET /api/playlists lists them; files live in "${dir}"`,
            details: { name },
          });
        }
        await unlink(entry.file).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        });
        remove(name);
      });
    },

    /** Calls `listener` after each change; returns the function that stops it. */
    onChange(listener: (change: PlaylistChange) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    async close(): Promise<void> {
      stop.abort();
      listeners.clear();
      await queue;
    },
  };
}

/**
 * A JSON body becomes the same structure in YAML; a YAML body is kept as written, comments
 * included.
 *
 * @example
 * asYaml('{"loop":true}') // 'loop: true\n'
 */
function asYaml(body: string): string {
  if (body.trimStart().startsWith('{')) {
    try {
      return stringify(JSON.parse(body));
    } catch {
      // Flow-style YAML that is not JSON: keep it as it is.
    }
  }
  return body.endsWith('\n') ? body : `${body}\n`;
}
