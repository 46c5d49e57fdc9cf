/**
 * Ties the playlist store, the runners and the scheduler together: one runner per started
 * playlist, at most one playlist per canvas. A playlist file that changes while it runs takes
 * over at the next step boundary, at the same step position; a broken edit changes nothing;
 * a deleted playlist stops where it runs.
 */
import { parseSlug } from '../canvas/slug.js';
import type { ArchiveStore } from '../archive/archive-entry.js';
import type { CanvasCommands, CommandOrigin } from '../control/command-types.js';
import { EaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import {
  createPlaylistRunner,
  type OnFrame,
  type PlaylistRunner,
  type PlaylistRunnerEvent,
  type PlaylistRunnerStatus,
} from './playlist-runner.js';
import { createPlaylistScheduler } from './playlist-scheduler.js';
import { createPlaylistStore, type PlaylistChange, type PlaylistStoreOptions } from './playlist-store.js';
import type { Playlist } from './playlist-types.js';

export interface PlaylistManagerOptions {
  /** The playlist folder, e.g. config/playlists. */
  dir: string;
  commands: Pick<CanvasCommands, 'setPrompt' | 'setSource' | 'pause' | 'resume'>;
  onFrame: OnFrame;
  /** Where the manager hears that a canvas was removed: a playlist on it stops. */
  canvases?: { onEvent(listener: (event: { type: string; slug: string }) => void): () => void };
  clock: Clock;
  logger: Logger;
  /** IANA time zone for `at:` times; default: the machine's local time. */
  timeZone?: string;
  /** Store tuning (rescan interval, debounce, ...), mostly for tests. */
  store?: Omit<PlaylistStoreOptions, 'dir' | 'clock' | 'logger'>;
  /** Runner tuning: nominalFps, frameStallMs. */
  runner?: { nominalFps?: number; frameStallMs?: number };
  /** The archive `archive:` steps play from; absent when archive.dir is "" (such a step then fails at its start). */
  archive?: Pick<ArchiveStore, 'select'> | undefined;
}

export type PlaylistManagerEvent =
  | PlaylistRunnerEvent
  | { type: 'started'; playlist: string; slugs: string[]; origin: CommandOrigin }
  | { type: 'file'; change: PlaylistChange };

export type PlaylistManager = ReturnType<typeof createPlaylistManager>;

const SCHEDULE: CommandOrigin = { via: 'config', who: 'schedule' };

/**
 * @example
 * const playlists = createPlaylistManager({ dir: 'config/playlists', commands, onFrame, clock: systemClock, logger });
 * await playlists.ready;
 * await playlists.start('left-canva', 'evening-show', { via: 'http', who: '10.0.0.7' });
 * playlists.status('left-canva'); // { playlist: 'evening-show', stepIndex: 0, ... }
 * await playlists.close();
 */
export function createPlaylistManager(options: PlaylistManagerOptions) {
  const { clock } = options;
  const log = options.logger.child({ component: 'playlists' });
  const store = createPlaylistStore({ dir: options.dir, clock, logger: options.logger, ...options.store });
  const bySlug = new Map<string, PlaylistRunner>();
  const runners = new Set<PlaylistRunner>();
  const listeners = new Set<(event: PlaylistManagerEvent) => void>();
  let closing: Promise<void> | undefined;

  const emit = (event: PlaylistManagerEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        log.error({ err }, 'A playlist event listener failed');
      }
    }
  };

  const scheduler = createPlaylistScheduler({
    clock,
    logger: options.logger,
    ...(options.timeZone !== undefined && { timeZone: options.timeZone }),
    onDue: (playlist) => launch(playlist, playlist.canvases, SCHEDULE),
  });
  const reschedule = () => scheduler.update(store.list().flatMap((l) => (l.playlist ? [l.playlist] : [])));

  store.onChange((change) => {
    emit({ type: 'file', change });
    for (const runner of [...runners]) {
      if (runner.name !== change.name) continue;
      if (change.type === 'changed') runner.replace(change.playlist);
      else if (change.type === 'removed') runner.stop();
    }
    reschedule();
  });

  const ready = store.load().then(reschedule);

  // A playlist on a canvas reaped for want of displays (or removed) stops; it never creates one.
  const unsubscribeCanvases = options.canvases?.onEvent((event) => {
    if (event.type === 'removed' && stopSlug(event.slug)) log.info({ slug: event.slug }, `Playlist stopped on "${event.slug}"`);
  });

  function launch(
    playlist: Playlist,
    slugs: string[],
    origin: CommandOrigin,
    from?: { stepIndex: number; loopCount: number },
  ): PlaylistRunnerStatus {
    for (const slug of slugs) stopSlug(slug);
    const runner = createPlaylistRunner({
      playlist,
      slugs,
      commands: options.commands,
      onFrame: options.onFrame,
      clock,
      logger: options.logger,
      ...options.runner,
      ...(from && { from }),
      ...(options.archive && { archive: options.archive }),
    });
    runners.add(runner);
    for (const slug of slugs) bySlug.set(slug, runner);
    runner.onEvent((event) => {
      emit(event);
      if (event.type === 'ended' || event.type === 'stopped') {
        runners.delete(runner);
        for (const [slug, r] of bySlug) if (r === runner) bySlug.delete(slug);
      }
    });
    log.info(
      { playlist: playlist.name, slugs, via: origin.via, who: origin.who },
      `Playlist "${playlist.name}" started on ${slugs.map((s) => `"${s}"`).join(', ')}`,
    );
    emit({ type: 'started', playlist: playlist.name, slugs, origin });
    runner.start();
    return runner.status();
  }

  function stopSlug(slug: string): boolean {
    const runner = bySlug.get(slug);
    if (!runner) return false;
    bySlug.delete(slug);
    runner.stop(slug);
    return true;
  }

  return {
    store,
    /** Resolves once the folder has been read and the schedule armed. */
    ready,

    /**
     * Starts playlist `name` on one canvas from its first step, replacing whatever playlist
     * ran there. Throws EASEL_ERR_SLUG_INVALID, EASEL_ERR_NOT_FOUND, or the PlaylistError of a
     * file that never parsed (one with an older good version runs that version).
     */
    async start(slug: string, name: string, origin: CommandOrigin): Promise<PlaylistRunnerStatus> {
      await ready;
      const check = parseSlug(slug);
      if (!check.ok)
        throw new EaselError('EASEL_ERR_SLUG_INVALID', check.reason, {
          hint: 'Use 1-63 lowercase letters, digits and dashes: left-canva',
          details: { slug },
        });
      if (closing)
        throw new EaselError('EASEL_ERR_SERVER_CLOSING', 'The server is shutting down and starts no playlist', {
          hint: 'Start it again once the server is back',
        });
      const playlist = store.get(name);
      if (!playlist) {
        const broken = store.entry(name)?.error;
        if (broken) throw broken;
        const known = store.list().map((l) => l.name);
        throw new EaselError('EASEL_ERR_NOT_FOUND', `Playlist "${name}" does not exist`, {
          hint:
            known.length > 0 ? `Known playlists: ${known.join(', ')}` : `Add ${name}.yaml to "${store.dir}" or PUT /api/playlists/${name}`,
          details: { name },
        });
      }
      return launch(playlist, [slug], origin);
    },

    /**
     * Picks a show up again at a step (after a restart): that step begins anew on `slugs`.
     * Throws EASEL_ERR_NOT_FOUND when the playlist no longer parses or exists.
     */
    async resume(
      name: string,
      slugs: string[],
      from: { stepIndex: number; loopCount: number },
      origin: CommandOrigin,
    ): Promise<PlaylistRunnerStatus> {
      await ready;
      if (closing)
        throw new EaselError('EASEL_ERR_SERVER_CLOSING', 'The server is shutting down and starts no playlist', {
          hint: 'Start it again once the server is back',
        });
      const playlist = store.get(name);
      if (!playlist)
        throw new EaselError('EASEL_ERR_NOT_FOUND', `Playlist "${name}" does not exist`, {
          hint: `Add ${name}.yaml to "${store.dir}"`,
          details: { name },
        });
      return launch(playlist, slugs, origin, from);
    },

    /** Stops the playlist driving `slug` (others it drives go on); false when none did. */
    stop(slug: string, origin?: CommandOrigin): boolean {
      const stopped = stopSlug(slug);
      if (stopped) log.info({ slug, via: origin?.via, who: origin?.who }, `Playlist stopped on "${slug}"`);
      return stopped;
    },

    /** Where the playlist driving `slug` is, or null when none does. */
    status(slug: string): PlaylistRunnerStatus | null {
      return bySlug.get(slug)?.status() ?? null;
    },

    /** Every running playlist's status. */
    running(): PlaylistRunnerStatus[] {
      return [...runners].map((r) => r.status());
    },

    /** Playlists with `at:` times and when each starts next. */
    schedule() {
      return scheduler.list();
    },

    onEvent(listener: (event: PlaylistManagerEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Stops every runner (resuming paused canvases), the schedule and the watcher; idempotent. */
    close(): Promise<void> {
      closing ??= (async () => {
        scheduler.close();
        unsubscribeCanvases?.();
        await ready.catch(() => undefined);
        scheduler.close();
        for (const runner of [...runners]) runner.stop();
        await Promise.allSettled([store.close()]);
        listeners.clear();
      })();
      return closing;
    },
  };
}
