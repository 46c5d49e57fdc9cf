/**
 * Starts playlists with `at:` times by themselves, each day at those local times (on the
 * `days` listed). Timers are capped at an hour and re-checked, so a wall-clock change (NTP, a
 * suspended machine) is noticed; a start found more than `lateLimitMs` late is skipped, as a
 * start time already passed when Easel starts is: it waits for the next day.
 */
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { nextOccurrence } from './next-occurrence.js';
import type { Playlist } from './playlist-types.js';

export interface PlaylistSchedulerOptions {
  clock: Clock;
  logger: Logger;
  /** Called at a playlist's start time. */
  onDue: (playlist: Playlist, time: Date) => void;
  /** IANA time zone for `at`; default: the machine's. */
  timeZone?: string;
  /** Longest single timer; the due time is re-checked after it. Default 1 h. */
  maxTimerMs?: number;
  /** A start noticed later than this (the machine slept) is skipped. Default 5 min. */
  lateLimitMs?: number;
}

interface Planned {
  playlist: Playlist;
  key: string;
  due: number | undefined;
  timer: unknown;
}

export type PlaylistScheduler = ReturnType<typeof createPlaylistScheduler>;

/**
 * @example
 * const scheduler = createPlaylistScheduler({ clock, logger, onDue: (p) => start(p) });
 * scheduler.update(store.list().flatMap((l) => l.playlist ?? []));
 */
export function createPlaylistScheduler(options: PlaylistSchedulerOptions) {
  const { clock, timeZone } = options;
  const log = options.logger.child({ component: 'playlist-scheduler' });
  const maxTimerMs = options.maxTimerMs ?? 3_600_000;
  const lateLimitMs = options.lateLimitMs ?? 5 * 60_000;
  const planned = new Map<string, Planned>();
  if (timeZone !== undefined) new Intl.DateTimeFormat('en', { timeZone }); // a bad zone throws RangeError here, not at 18:30

  const next = (p: Playlist, after: number) => nextOccurrence(after, p.at, p.days, timeZone)?.getTime();

  function arm(entry: Planned): void {
    if (entry.timer !== null) clock.clearTimeout(entry.timer);
    entry.timer = null;
    if (entry.due === undefined) return;
    entry.timer = clock.setTimeout(() => fire(entry), Math.min(Math.max(0, entry.due - clock.now()), maxTimerMs));
  }

  function fire(entry: Planned): void {
    entry.timer = null;
    const now = clock.now();
    const due = entry.due;
    if (due === undefined || planned.get(entry.playlist.name) !== entry) return;
    if (now >= due) {
      const name = entry.playlist.name;
      if (now - due > lateLimitMs) {
        log.warn(
          { playlist: name, due: new Date(due).toISOString(), lateMs: now - due },
          `Playlist "${name}" missed its start time (the clock jumped or the machine slept); it waits for the next one`,
        );
      } else {
        log.info({ playlist: name, canvases: entry.playlist.canvases }, `Playlist "${name}" starts on schedule`);
        try {
          options.onDue(entry.playlist, new Date(due));
        } catch (err) {
          log.error({ err, playlist: name }, `Playlist "${name}" could not start on schedule`);
        }
      }
      entry.due = next(entry.playlist, Math.max(now, due));
    }
    arm(entry);
  }

  return {
    /** Takes the current set of playlists; unchanged schedules keep their timers. */
    update(playlists: Iterable<Playlist>): void {
      const seen = new Set<string>();
      for (const playlist of playlists) {
        if (playlist.at.length === 0 || playlist.canvases.length === 0) continue;
        seen.add(playlist.name);
        const key = JSON.stringify([playlist.at, playlist.days]);
        const entry = planned.get(playlist.name);
        if (entry && entry.key === key) {
          entry.playlist = playlist;
          continue;
        }
        if (entry?.timer != null) clock.clearTimeout(entry.timer);
        const fresh: Planned = { playlist, key, due: next(playlist, clock.now()), timer: null };
        planned.set(playlist.name, fresh);
        log.info(
          { playlist: playlist.name, next: fresh.due === undefined ? null : new Date(fresh.due).toISOString() },
          `Playlist "${playlist.name}" scheduled`,
        );
        arm(fresh);
      }
      for (const [name, entry] of planned) {
        if (seen.has(name)) continue;
        if (entry.timer !== null) clock.clearTimeout(entry.timer);
        planned.delete(name);
      }
    },

    /** Each scheduled playlist and its next start (ISO), soonest first. */
    list(): Array<{ name: string; canvases: string[]; at: string[]; next: string | null }> {
      return [...planned.values()]
        .sort((a, b) => (a.due ?? Infinity) - (b.due ?? Infinity))
        .map((e) => ({
          name: e.playlist.name,
          canvases: e.playlist.canvases,
          at: e.playlist.at,
          next: e.due === undefined ? null : new Date(e.due).toISOString(),
        }));
    },

    close(): void {
      for (const entry of planned.values()) if (entry.timer !== null) clock.clearTimeout(entry.timer);
      planned.clear();
    },
  };
}
