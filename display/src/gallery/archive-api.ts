import { ApiProblem, type ApiRequest } from '../console/operator-api.js';
import type { GalleryFilters } from './gallery-filters.js';
import type { ArchiveEntry } from '../../../protocol/archive-entry.js';

/**
 * One archived frame as `GET /api/archive` answers it. Read defensively, as the console reads its
 * API: a field the server left out (`endpoint` without the operator token) is left out here.
 */
export type ArchiveItem = ArchiveEntry;

export interface ArchiveItemsPage {
  items: ArchiveItem[];
  next: string | null;
}

/** The widths the server makes thumbnails at. */
export type ThumbWidth = 160 | 320 | 640 | 1280;

export interface ArchiveApi {
  /** One page of entries, newest first; `cursor` is the `next` of the page before. */
  list(filters: GalleryFilters, limit: number, cursor?: string): Promise<ArchiveItemsPage>;
  entry(id: string): Promise<ArchiveItem>;
  /** Resolves with the entry as it is after the change (operator token). */
  star(id: string, starred: boolean): Promise<ArchiveItem | undefined>;
  /** Shows the entry on `canvas` as a still for `hold` ("30s"; operator token). */
  show(id: string, canvas: string, hold: string): Promise<void>;
  /** The image's URL: a WebP thumbnail `w` wide, or the original bytes. Carries the read token. */
  imageUrl(id: string, w?: ThumbWidth): string;
}

export interface ArchiveApiOptions {
  request: ApiRequest;
  /** The token reads send (`Authorization` for fetches, `?token=` for images); '' for none. */
  readToken(): string;
}

/**
 * The gallery's side of the archive API (docs/archive.md "API"). Reads send the read token,
 * changes the operator token the request was made with.
 *
 * @example
 * const archive = createArchiveApi({ request, readToken: () => token });
 * const { items, next } = await archive.list({ canvas: 'wall-1' }, 40);
 */
export function createArchiveApi(options: ArchiveApiOptions): ArchiveApi {
  const { request } = options;
  const entryPath = (id: string) => `/api/archive/${encodeURIComponent(id)}`;
  const read = (path: string) => request('GET', path, undefined, options.readToken());

  return {
    async list(filters, limit, cursor) {
      const params = new URLSearchParams();
      if (filters.canvas) params.set('canvas', filters.canvas);
      if (filters.q) params.set('q', filters.q);
      if (filters.day) params.set('day', filters.day);
      if (filters.starred) params.set('starred', 'true');
      params.set('limit', String(limit));
      if (cursor) params.set('cursor', cursor);
      const body = (await read(`/api/archive?${params}`)) as { items?: unknown; next?: unknown } | undefined;
      if (!body || !Array.isArray(body.items)) throw malformed('list');
      return { items: body.items.filter(isArchiveItem), next: typeof body.next === 'string' && body.next !== '' ? body.next : null };
    },
    async entry(id) {
      const body = await read(entryPath(id));
      if (!isArchiveItem(body)) throw malformed('entry');
      return body;
    },
    async star(id, starred) {
      const body = await request(starred ? 'POST' : 'DELETE', `${entryPath(id)}/star`);
      return isArchiveItem(body) ? body : undefined;
    },
    async show(id, canvas, hold) {
      await request('POST', `${entryPath(id)}/show`, { canvas, hold });
    },
    imageUrl(id, w) {
      const params = new URLSearchParams();
      if (w) params.set('w', String(w));
      const token = options.readToken();
      if (token) params.set('token', token);
      const query = params.toString();
      return `${entryPath(id)}/image${query ? `?${query}` : ''}`;
    },
  };
}

/** A name to save the original under: `wall-1-2026-12-01-190512345.png`. */
export function downloadName(item: Pick<ArchiveItem, 'id' | 'canvas' | 'mime'>): string {
  const m = /\.(\d{4})(\d{2})(\d{2})\.(\d{9})-/.exec(item.id);
  const when = m ? `${m[1]}-${m[2]}-${m[3]}-${m[4]}` : item.id.slice(item.canvas.length + 1);
  const ext = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/avif': 'avif' }[item.mime] ?? 'img';
  return `${item.canvas}-${when}.${ext}`;
}

export function isArchiveItem(value: unknown): value is ArchiveItem {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.id === 'string' &&
    typeof v.canvas === 'string' &&
    typeof v.madeAt === 'string' &&
    typeof v.starred === 'boolean' &&
    (v.prompt === undefined || typeof v.prompt === 'string')
  );
}

function malformed(what: string): ApiProblem {
  return new ApiProblem({
    status: 502,
    title: `The server sent an archive ${what} this page cannot read`,
    hint: 'The page may be older than the server: reload it',
  });
}
