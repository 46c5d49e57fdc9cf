/**
 * The archive over HTTP (docs/archive.md, API): list and search, one entry, its image and
 * thumbnails, star, delete, and show again on a canvas. Reads need the display token where one
 * is set (as a canvas's frame does); changes need the operator token. Every id is checked against
 * its pattern before any file is touched.
 */
import { readFile } from 'node:fs/promises';
import type { ApiRequest, createApi } from '../api/http.js';
import { jsonBody } from '../api/http.js';
import type { CanvasCommands, CommandOrigin } from '../control/command-types.js';
import { SLUG_PATTERN } from '../canvas/slug.js';
import { EaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import { parseDuration } from '../playlist/duration.js';
import type { ArchiveEntry, ArchiveStore } from './archive-entry.js';
import { checkArchiveId, parseListParams } from './archive-params.js';
import { THUMB_WIDTHS, type ThumbCache } from './thumb-cache.js';

export interface ArchiveRouteDeps {
  api: ReturnType<typeof createApi>;
  /** The open store; undefined while the archive is off (`archive.dir` = ""). */
  store: () => ArchiveStore | undefined;
  thumbs: () => ThumbCache | undefined;
  commands: Pick<CanvasCommands, 'showStill'>;
  /** A display token is set: cached images are for this browser only, not shared proxies. */
  privateReads: boolean;
  logger: Logger;
}

/** Longest hold a still may be given from the archive, as for uploads. */
const MAX_HOLD_MS = 86_400_000;
const DEFAULT_HOLD_MS = 30_000;

const origin = (req: ApiRequest): CommandOrigin => ({
  via: req.headers['user-agent']?.startsWith('easel-cli') ? 'cli' : 'http',
  who: req.remoteAddress,
});

const invalid = (field: string, message: string, hint: string) =>
  new EaselError('EASEL_ERR_REQUEST_INVALID', `${field}: ${message}`, { hint, details: { field } });

export const archiveOff = () =>
  new EaselError('EASEL_ERR_NOT_FOUND', 'The archive is off on this server', {
    hint: 'Set archive.dir (EASEL_ARCHIVE_DIR) to a folder to keep generated frames',
  });

/** The store, or a 404 saying the archive is off. */
export function storeOf(deps: Pick<ArchiveRouteDeps, 'store'>): ArchiveStore {
  const store = deps.store();
  if (!store) throw archiveOff();
  return store;
}

export function registerArchiveRoutes(deps: ArchiveRouteDeps): void {
  const { api, logger: log } = deps;

  const entryOf = (req: ApiRequest): { store: ArchiveStore; entry: ArchiveEntry } => {
    const id = checkArchiveId(req.params.id!);
    const store = storeOf(deps);
    const entry = store.get(id);
    if (!entry)
      throw new EaselError('EASEL_ERR_NOT_FOUND', `Archive entry "${id}" does not exist`, {
        hint: 'It may have been deleted or removed by retention (archive.maxAgeDays, archive.maxMb); GET /api/archive lists what is kept',
      });
    return { store, entry };
  };
  /** The inference endpoint is a server address: only readers who see all get it. */
  const seen = (req: ApiRequest, entry: ArchiveEntry): ArchiveEntry => {
    if (req.seesAll || entry.endpoint === undefined) return entry;
    const { endpoint: _hidden, ...rest } = entry;
    return rest;
  };

  api.route(
    'get',
    '/api/archive',
    (req) => {
      const { query, limit, cursor } = parseListParams(req.query);
      const page = storeOf(deps).list(query, limit, cursor);
      return { status: 200, json: { items: page.items.map((e) => seen(req, e)), next: page.next } };
    },
    { view: true },
  );

  api.route('get', '/api/archive/:id', (req) => ({ status: 200, json: seen(req, entryOf(req).entry) }), { view: true });

  api.route(
    'get',
    '/api/archive/:id/image',
    async (req) => {
      const { store, entry } = entryOf(req);
      for (const key of req.query.keys()) {
        if (key !== 'w' && key !== 'token') throw invalid(key.slice(0, 60), 'unknown parameter', 'This route takes w (thumbnail width)');
      }
      const wText = req.query.get('w');
      const width = wText === null ? undefined : Number(wText);
      if (wText !== null && !(THUMB_WIDTHS as readonly number[]).includes(width!))
        throw invalid(
          'w',
          `value ${JSON.stringify(wText.slice(0, 40))} is not one of ${THUMB_WIDTHS.join(', ')}`,
          'Use ?w=320, or no w for the original',
        );
      const etag = `"${entry.id}${width ? `-w${width}` : ''}"`;
      const caching = {
        etag,
        'cache-control': `${deps.privateReads ? 'private' : 'public'}, max-age=31536000, immutable`,
      };
      if (req.headers['if-none-match']?.split(',').some((t) => t.trim() === etag)) return { status: 304, headers: caching };
      const original = store.imagePath(entry);
      if (width === undefined) {
        const data = await readFile(original).catch((err: NodeJS.ErrnoException) => missing(entry, err));
        return { status: 200, body: data, contentType: entry.mime, headers: caching };
      }
      const thumbs = deps.thumbs();
      if (!thumbs) throw archiveOff();
      const { data, hit } = await thumbs.get(entry.id, original, width).catch((err: unknown) => unreadable(entry, err));
      return {
        status: 200,
        body: data,
        contentType: 'image/webp',
        headers: { ...caching, 'x-easel-thumbnail-cache': hit ? 'hit' : 'miss' },
      };
    },
    { view: true },
  );

  for (const [method, starred] of [
    ['post', true],
    ['del', false],
  ] as const) {
    api.route(
      method,
      '/api/archive/:id/star',
      async (req) => {
        const { store, entry } = entryOf(req);
        const after = await store.setStarred(entry.id, starred);
        if (!after)
          throw new EaselError('EASEL_ERR_NOT_FOUND', `Archive entry "${entry.id}" does not exist`, { hint: 'It was removed meanwhile' });
        log.info(
          { canvas: entry.canvas, id: entry.id, who: req.remoteAddress },
          starred ? 'Archive entry starred' : 'Archive entry unstarred',
        );
        return { status: 200, json: seen(req, after) };
      },
      { mutating: true },
    );
  }

  api.route(
    'del',
    '/api/archive/:id',
    async (req) => {
      const { store, entry } = entryOf(req);
      const removed = await store.remove(entry.id);
      await deps.thumbs()?.forget(entry.id);
      if (!removed)
        throw new EaselError('EASEL_ERR_NOT_FOUND', `Archive entry "${entry.id}" does not exist`, { hint: 'It was removed meanwhile' });
      log.info({ canvas: entry.canvas, id: entry.id, who: req.remoteAddress }, 'Archive entry deleted');
      return { status: 200, json: { removed: entry.id } };
    },
    { mutating: true },
  );

  api.route(
    'post',
    '/api/archive/:id/show',
    async (req) => {
      const { store, entry } = entryOf(req);
      const { canvas, holdMs } = parseShowBody(jsonBody(req));
      const data = await readFile(store.imagePath(entry)).catch((err: NodeJS.ErrnoException) => missing(entry, err));
      // The command every upload takes: limits, "did you mean", cluster routing to the owner.
      const { imageId } = await deps.commands.showStill(canvas, data, holdMs, { ...origin(req), archiveId: entry.id });
      log.info({ canvas, id: entry.id, imageId, holdMs: holdMs === Infinity ? null : holdMs }, 'Archive entry shown again');
      return { status: 202, json: { canvas, archiveId: entry.id, imageId } };
    },
    { mutating: true },
  );
}

/** `{ "canvas": "wall-1", "hold": "30s" }`: hold as a duration or seconds, 0 until the next command. */
export function parseShowBody(body: Record<string, unknown>): { canvas: string; holdMs: number } {
  for (const key of Object.keys(body)) {
    if (key !== 'canvas' && key !== 'hold') throw invalid(key.slice(0, 60), 'unknown setting', 'The body takes canvas and hold');
  }
  const { canvas, hold } = body;
  if (canvas === undefined) throw invalid('canvas', 'is required', 'Name the canvas to show it on: {"canvas": "wall-1"}');
  if (typeof canvas !== 'string' || !SLUG_PATTERN.test(canvas))
    throw invalid(
      'canvas',
      `value ${JSON.stringify(canvas).slice(0, 80)} is not a canvas slug`,
      'Use lowercase letters, digits and dashes, e.g. wall-1',
    );
  if (hold === undefined) return { canvas, holdMs: DEFAULT_HOLD_MS };
  const ms = typeof hold === 'string' || typeof hold === 'number' ? parseDuration(hold) : undefined;
  if (ms === undefined || ms < 0 || ms > MAX_HOLD_MS)
    throw invalid(
      'hold',
      `value ${JSON.stringify(hold).slice(0, 80)} is not a duration from 0 to 24h`,
      'Use "30s", "5m", or 0 to hold until the next command',
    );
  return { canvas, holdMs: ms === 0 ? Infinity : ms };
}

function missing(entry: ArchiveEntry, err: NodeJS.ErrnoException): never {
  if (err.code === 'ENOENT')
    throw new EaselError('EASEL_ERR_NOT_FOUND', `The image of archive entry "${entry.id}" is missing from the archive folder`, {
      hint: `Its file ${entry.file} was removed outside Easel; DELETE /api/archive/${entry.id} drops the entry`,
    });
  throw err;
}

function unreadable(entry: ArchiveEntry, err: unknown): never {
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') missing(entry, err as NodeJS.ErrnoException);
  const message = err instanceof Error ? err.message : String(err);
  if (/pixel limit/i.test(message))
    throw new EaselError('EASEL_ERR_IMAGE_TOO_LARGE', `The image of archive entry "${entry.id}" is over the pixel limit`, {
      hint: 'Fetch the original without ?w=, or raise render.limitInputPixels',
    });
  throw new EaselError('EASEL_ERR_IMAGE_UNREADABLE', `The image of archive entry "${entry.id}" cannot be decoded for a thumbnail`, {
    hint: 'Fetch the original without ?w=; the file may be damaged',
  });
}
