/**
 * What a screen's clock sync means to a technician: the per-display entries of
 * `GET /api/canvases/:slug` (`displayList`, docs/api.md) read defensively, judged, sorted worst
 * first and put in words. Shared by the operator console and `easel status <slug>`, so both say
 * the same thing. Browser-safe and pure.
 */
import type { ReportMessage } from './wire.js';

/** `displayList[].sync`: the screen's last `report` (protocol/wire.ts), as the API names its fields. */
export interface ScreenSync {
  rttMs: ReportMessage['rttMs'];
  errorMs: ReportMessage['errorMs'];
  framesShown: ReportMessage['shown'];
  framesLate: ReportMessage['late'];
  /** ISO-8601, server clock. */
  reportedAt: string;
}

/** One entry of `displayList`; anything but `id` may be missing from an older or newer server. */
export interface ScreenEntry {
  id: number | string;
  /** Withheld from readers without the operator token. */
  address?: string;
  userAgent?: string;
  connectedSince?: string;
  mode?: string;
  /** `v2`, `v1` or `json`. */
  wire?: string;
  rendition?: string;
  framesSent?: number;
  framesSkipped?: number;
  /** Display clock minus server clock, ms (ReportMessage `offsetMs`, or a v1 ping's `offset`). */
  clockOffsetMs?: number | null;
  sync?: ScreenSync | null;
}

/**
 * Half a 60 Hz refresh: a screen whose idea of the server clock may be off by more cannot be
 * sure to change on the same refresh as its neighbours.
 */
export const UNCERTAIN_ERROR_MS = 8;

export const ScreenHealth = {
  /** In step as far as its report says. */
  Ok: 'ok',
  /** Reported a large error or late frames: marked. */
  Uncertain: 'uncertain',
  /** A v2 screen that has not reported yet. */
  Waiting: 'waiting',
  /** A seed (JSON) or v1 client: it never reports. */
  NoReport: 'no-report',
} as const;
export type ScreenHealth = (typeof ScreenHealth)[keyof typeof ScreenHealth];

export interface ScreenVerdict {
  health: ScreenHealth;
  /** Plain words for what is wrong, or why there is nothing to judge; absent when all is well. */
  note?: string;
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readSync(v: unknown): ScreenSync | null {
  if (!isObject(v)) return null;
  const { rttMs, errorMs, framesShown, framesLate, reportedAt } = v;
  if (!(finite(rttMs) && finite(errorMs) && finite(framesShown) && finite(framesLate))) return null;
  return { rttMs, errorMs, framesShown, framesLate, reportedAt: typeof reportedAt === 'string' ? reportedAt : '' };
}

/**
 * The screens of a `GET /api/canvases/:slug` body; entries without an id are left out, odd
 * fields dropped, so a server that is newer or older than its reader never breaks it.
 */
export function readScreenList(body: unknown): ScreenEntry[] {
  const list = isObject(body) && Array.isArray(body.displayList) ? body.displayList : [];
  const out: ScreenEntry[] = [];
  for (const raw of list) {
    if (!isObject(raw) || !(typeof raw.id === 'number' || typeof raw.id === 'string')) continue;
    const entry: ScreenEntry = { id: raw.id, sync: readSync(raw.sync) };
    for (const key of ['address', 'userAgent', 'connectedSince', 'mode', 'wire', 'rendition'] as const) {
      if (typeof raw[key] === 'string') entry[key] = raw[key];
    }
    for (const key of ['framesSent', 'framesSkipped'] as const) if (finite(raw[key])) entry[key] = raw[key];
    entry.clockOffsetMs = finite(raw.clockOffsetMs) ? raw.clockOffsetMs : null;
    out.push(entry);
  }
  return out;
}

/** Whether a screen needs a look; cheap, for sorting and counting thousands. */
export function screenHealth(screen: ScreenEntry): ScreenHealth {
  const sync = screen.sync;
  if (!sync) return screen.wire === 'v2' ? ScreenHealth.Waiting : ScreenHealth.NoReport;
  return sync.errorMs > UNCERTAIN_ERROR_MS || sync.framesLate > 0 ? ScreenHealth.Uncertain : ScreenHealth.Ok;
}

/** Whether a screen needs a look, and why, in words. */
export function judgeScreen(screen: ScreenEntry): ScreenVerdict {
  const health = screenHealth(screen);
  const sync = screen.sync;
  switch (health) {
    case ScreenHealth.Waiting:
      return { health, note: 'no sync report yet' };
    case ScreenHealth.NoReport:
      return { health, note: 'no sync report (seed or v1 client)' };
    case ScreenHealth.Ok:
      return { health };
  }
  const problems: string[] = [];
  if (sync && sync.errorMs > UNCERTAIN_ERROR_MS)
    problems.push(`this screen's clock is uncertain to ±${formatDuration(sync.errorMs)}: check its network`);
  if (sync && sync.framesLate > 0) {
    problems.push(`${count(sync.framesLate)} of ${count(sync.framesShown)} frames came too late to show in step`);
  }
  return { health, note: problems.join('; ') };
}

const HEALTH_RANK: Record<ScreenHealth, number> = { uncertain: 0, waiting: 1, 'no-report': 2, ok: 3 };

/**
 * Worst first: marked screens (largest error, then most late frames), then those that have not
 * reported, then the good ones (largest error first). A copy; the list is left as it was.
 */
export function screensWorstFirst(screens: readonly ScreenEntry[]): ScreenEntry[] {
  const keyed = screens.map((s) => ({ s, rank: HEALTH_RANK[screenHealth(s)], share: lateShare(s) }));
  keyed.sort(
    (a, b) =>
      a.rank - b.rank ||
      (b.s.sync?.errorMs ?? 0) - (a.s.sync?.errorMs ?? 0) ||
      b.share - a.share ||
      String(a.s.id).localeCompare(String(b.s.id), 'en', { numeric: true }),
  );
  return keyed.map((k) => k.s);
}

const lateShare = (s: ScreenEntry) => (s.sync && s.sync.framesShown > 0 ? s.sync.framesLate / s.sync.framesShown : 0);

/** How a technician tells screens apart: its address where the reader may see it, else its id. */
export function screenName(screen: ScreenEntry): string {
  return screen.address ? screen.address : `display ${screen.id}`;
}

/** `v2`, `v1`, `JSON`: the protocol a screen speaks, as the console and CLI print it. */
export function wireWords(screen: ScreenEntry): string {
  return screen.wire === 'json' ? 'JSON' : (screen.wire ?? screen.mode ?? '?');
}

const MINUS = '\u2212';

/**
 * A positive length of time at a sensible precision: `0.4 ms`, `12 ms`, `3.2 s`, `48 s`,
 * `12 min`, `1 h 2 min`, `3 d 4 h`.
 */
export function formatDuration(ms: number): string {
  const a = Math.abs(ms);
  if (a < 10) return `${trim(a.toFixed(1))} ms`;
  if (a < 1_000) return `${Math.round(a)} ms`;
  if (a < 10_000) return `${trim((a / 1_000).toFixed(1))} s`;
  if (a < 60_000) return `${Math.round(a / 1_000)} s`;
  const minutes = Math.round(a / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  if (hours < 24) return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
  const days = Math.floor(hours / 24);
  return hours % 24 === 0 ? `${days} d` : `${days} d ${hours % 24} h`;
}

/** A screen's clock offset, signed: `+3.2 s` (the screen's clock is ahead), `−1 h 2 min`, `±0 ms`. */
export function formatClockOffset(ms: number | null | undefined): string {
  if (!finite(ms)) return 'unknown';
  const text = formatDuration(ms);
  if (text === '0 ms') return '±0 ms';
  return `${ms < 0 ? MINUS : '+'}${text}`;
}

/** `3 late of 1,200` / `none late of 1,200`. */
export function lateWords(sync: ScreenSync): string {
  return `${sync.framesLate === 0 ? 'none' : count(sync.framesLate)} late of ${count(sync.framesShown)}`;
}

function trim(fixed: string): string {
  return fixed.endsWith('.0') ? fixed.slice(0, -2) : fixed;
}

const grouping = new Intl.NumberFormat('en-US');

/** `1,200`: a count with its thousands grouped. */
export function count(n: number): string {
  return grouping.format(n);
}
