/**
 * What a request to the archive API may name, checked before anything touches the disk: entry
 * ids by a strict pattern (no dots, slashes or percent tricks outside their fixed places), and
 * the list/export filters, each bad value a 400 naming its parameter. Pure but for the server's
 * local time zone, which `day` and zone-less times are read in (docs/archive.md).
 */
import { EaselError } from '../errors.js';
import { SLUG_PATTERN } from '../canvas/slug.js';
import type { ArchiveQuery } from './archive-entry.js';
import { parseArchiveId } from './archive-ids.js';
import { ARCHIVE_TIME_HINT, parseArchiveTime } from './archive-time.js';

export const LIMIT_DEFAULT = 50;
export const LIMIT_MAX = 200;
/** Longest `q` taken: a prompt's words, not a document. */
const MAX_TEXT = 500;
/** A cursor is the store's own token, short and URL-safe. */
const CURSOR_PATTERN = /^[A-Za-z0-9._~:=-]{1,300}$/;
const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

const FILTERS = ['canvas', 'from', 'to', 'day', 'q', 'starred'] as const;
const PAGING = ['limit', 'cursor'] as const;

const invalid = (field: string, message: string, hint: string) =>
  new EaselError('EASEL_ERR_REQUEST_INVALID', `${field}: ${message}`, { hint, details: { field } });

const shown = (value: string) => JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);

/** Throws a 400 unless `id` is an archive id (`wall-1.20261201.190512345-ab12cd34`); returns it. */
export function checkArchiveId(id: string): string {
  if (parseArchiveId(id)) return id;
  throw invalid(
    'id',
    `value ${shown(id)} is not an archive id`,
    'Ids look like wall-1.20261201.190512345-ab12cd34; GET /api/archive lists them',
  );
}

export interface ListParams {
  query: ArchiveQuery;
  limit: number;
  cursor?: string;
}

/** `GET /api/archive`'s parameters: the filters plus `limit` (1–200, default 50) and `cursor`. */
export function parseListParams(params: URLSearchParams): ListParams {
  const query = parseFilters(params, PAGING);
  const limitText = single(params, 'limit');
  let limit = LIMIT_DEFAULT;
  if (limitText !== undefined) {
    limit = /^\d{1,6}$/.test(limitText) ? Number(limitText) : Number.NaN;
    if (!(limit >= 1 && limit <= LIMIT_MAX))
      throw invalid(
        'limit',
        `value ${shown(limitText)} is not a whole number from 1 to ${LIMIT_MAX}`,
        'Use ?limit=50 and page with cursor',
      );
  }
  const cursor = single(params, 'cursor');
  if (cursor !== undefined && !CURSOR_PATTERN.test(cursor))
    throw invalid(
      'cursor',
      `value ${shown(cursor)} is not a cursor this server gave out`,
      'Pass back the "next" of the previous page as it came',
    );
  return { query, limit, ...(cursor !== undefined && { cursor }) };
}

/**
 * The filters shared by the list and the export. `day` and `from`/`to` together select the part of
 * the day inside the range. Unknown parameters are refused, so a misspelt filter (`stared=true`)
 * never silently answers with everything.
 */
export function parseFilters(params: URLSearchParams, extra: readonly string[] = []): ArchiveQuery {
  const known = new Set<string>([...FILTERS, ...extra, 'token']);
  for (const key of new Set(params.keys())) {
    if (!known.has(key))
      throw invalid(key.slice(0, 60), 'unknown parameter', `The archive takes ${[...FILTERS, ...extra].join(', ')}; check the spelling`);
  }
  const query: ArchiveQuery = {};
  const canvas = single(params, 'canvas');
  if (canvas !== undefined) {
    if (!SLUG_PATTERN.test(canvas))
      throw invalid('canvas', `value ${shown(canvas)} is not a canvas slug`, 'Use lowercase letters, digits and dashes, e.g. wall-1');
    query.canvas = canvas;
  }
  const from = time(params, 'from');
  const to = time(params, 'to');
  if (from !== undefined) query.from = from;
  if (to !== undefined) query.to = to;
  if (from !== undefined && to !== undefined && from > to)
    throw invalid('to', 'is before from', 'Give from as the earlier time: ?from=2026-12-01T18:00&to=2026-12-01T20:00');
  const dayText = single(params, 'day');
  if (dayText !== undefined) {
    const [start, end] = localDay(dayText);
    query.from = Math.max(query.from ?? start, start);
    query.to = Math.min(query.to ?? end, end);
  }
  const text = single(params, 'q');
  if (text !== undefined) {
    if (text.length > MAX_TEXT)
      throw invalid('q', `is ${text.length} characters long, the most is ${MAX_TEXT}`, 'Search with a few words of the prompt');
    if (text.trim() !== '') query.text = text.trim();
  }
  const starred = single(params, 'starred');
  if (starred !== undefined) {
    if (starred !== 'true' && starred !== 'false')
      throw invalid('starred', `value ${shown(starred)} is not true or false`, 'Use ?starred=true for starred entries only');
    query.starred = starred === 'true';
  }
  return query;
}

/** A parameter given at most once; twice is refused, not silently narrowed to one. */
function single(params: URLSearchParams, name: string): string | undefined {
  const all = params.getAll(name);
  if (all.length > 1) throw invalid(name, `is given ${all.length} times`, `Give ${name} once`);
  return all[0];
}

/** An ISO-8601 time in epoch ms, read as the CLI and playlists read theirs (archive-time.ts). */
function time(params: URLSearchParams, name: string): number | undefined {
  const text = single(params, name);
  if (text === undefined) return undefined;
  const ms = parseArchiveTime(text);
  if (ms === undefined)
    throw invalid(name, `value ${shown(text)} is not a real ISO time`, `${ARCHIVE_TIME_HINT}; in a query write + as %2B`);
  return ms;
}

/** `[start, end)` of a server-local day in epoch ms; DST days are 23 or 25 hours. */
function localDay(text: string): [number, number] {
  const m = DAY.exec(text);
  const hint = 'Use ?day=2026-12-01 (a day in server local time)';
  if (!m) throw invalid('day', `value ${shown(text)} is not a day as YYYY-MM-DD`, hint);
  const [y, mo, d] = [Number(m[1]), Number(m[2]) - 1, Number(m[3])];
  const start = new Date(y, mo, d);
  if (start.getFullYear() !== y || start.getMonth() !== mo || start.getDate() !== d)
    throw invalid('day', `value ${shown(text)} is not a real date`, hint);
  return [start.getTime(), new Date(y, mo, d + 1).getTime()];
}
