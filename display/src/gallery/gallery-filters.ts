/** What the gallery is narrowed to; each one is kept in the page's address, so a link or a reload shows the same grid. */
export interface GalleryFilters {
  canvas?: string;
  /** Words the prompt must contain. */
  q?: string;
  /** `YYYY-MM-DD`, the server's local day. */
  day?: string;
  starred?: boolean;
}

/** The address parameters the filters use; every other one (`token`, `entry`) is left as it is. */
const KEYS = ['canvas', 'q', 'day', 'starred'] as const;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

/** The filters of an address's query; a malformed day is dropped rather than sent to be refused. */
export function readFilters(search: string | URLSearchParams): GalleryFilters {
  const params = typeof search === 'string' ? new URLSearchParams(search) : search;
  const filters: GalleryFilters = {};
  const canvas = params.get('canvas')?.trim();
  if (canvas) filters.canvas = canvas;
  const q = params.get('q')?.trim();
  if (q) filters.q = q.slice(0, 200);
  const day = params.get('day')?.trim();
  if (day && DAY.test(day)) filters.day = day;
  if (params.get('starred') === 'true') filters.starred = true;
  return filters;
}

/** `search` with its filter parameters replaced by `filters` (the others kept, in order). */
export function writeFilters(search: string, filters: GalleryFilters): string {
  const params = new URLSearchParams(search);
  for (const key of KEYS) params.delete(key);
  if (filters.canvas) params.set('canvas', filters.canvas);
  if (filters.q) params.set('q', filters.q);
  if (filters.day) params.set('day', filters.day);
  if (filters.starred) params.set('starred', 'true');
  const query = params.toString();
  return query ? `?${query}` : '';
}

export function sameFilters(a: GalleryFilters, b: GalleryFilters): boolean {
  return KEYS.every((key) => (a[key] ?? undefined) === (b[key] ?? undefined));
}
