/**
 * `GET /api/archive/export?<filters>`: a zip of the originals (`<canvas>/<day>/<file>`) and a
 * `metadata.jsonl`, streamed as it is read from disk, never assembled in memory. Entries are
 * stored uncompressed (images are compressed already), so the zip's size is known before its
 * first byte and goes out as Content-Length; each chunk is handed to uWS with tryEnd and the
 * reading pauses until uWS says the client took it (onWritable), so a slow client holds the
 * export back instead of filling the server's memory. At most 10,000 entries per export; the
 * rest is one `cursor` away (`x-easel-export-next`).
 */
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { ZipFile } from 'yazl';
import type { ApiRequest, createApi } from '../api/http.js';
import { EaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import { replyJson } from '../transport/http-reply.js';
import { sendSized } from '../transport/sized-stream.js';
import type { ArchiveEntry, ArchiveStore } from './archive-entry.js';
import { parseFilters } from './archive-params.js';
import { storeOf } from './archive-routes.js';
import { createReadAhead } from './read-ahead.js';

export const EXPORT_MAX_ENTRIES = 10_000;
/** Exports at once: each reads the disk flat out; more wait their turn (429). */
const MAX_RUNNING = 2;
const PAGE = 200;
/** Where an entry's image goes in the zip: its own relative path, when it is the shape the contract gives. */
const ZIP_PATH = /^[a-z0-9][a-z0-9-]{0,62}\/\d{4}-\d{2}-\d{2}\/\d{9}-[0-9a-f]{8}\.[a-z]{3,4}$/;

export interface ArchiveExportDeps {
  app: TemplatedApp;
  api: ReturnType<typeof createApi>;
  store: () => ArchiveStore | undefined;
  logger: Logger;
  /** Entries per export; tests lower it. */
  maxEntries?: number;
}

export interface ExportStats {
  running: number;
  /** Bytes handed to clients, all exports together. */
  sentBytes: number;
  completed: number;
  failed: number;
}

/** Registers the export route; call before `/api/archive/:id` so `export` is never taken for an id. */
export function registerArchiveExport(deps: ArchiveExportDeps): { stats: () => Readonly<ExportStats> } {
  const log = deps.logger;
  const maxEntries = deps.maxEntries ?? EXPORT_MAX_ENTRIES;
  const stats: ExportStats = { running: 0, sentBytes: 0, completed: 0, failed: 0 };

  deps.app.get('/api/archive/export', (res, raw) => {
    const req = deps.api.admit(res, raw, { view: true });
    if (!req) return;
    const exchange = { aborted: false, stop: () => {} };
    res.onAborted(() => {
      exchange.aborted = true;
      exchange.stop();
    });
    let chosen: { store: ArchiveStore; entries: ArchiveEntry[]; next: string | null; canvas?: string };
    try {
      const store = storeOf(deps);
      const query = parseFilters(req.query, ['cursor']);
      if (stats.running >= MAX_RUNNING)
        throw new EaselError('EASEL_ERR_RATE_LIMITED', `${stats.running} exports are running: wait for one to finish`, {
          hint: 'Export one selection at a time',
          details: { retryAfterSeconds: 10 },
        });
      const entries: ArchiveEntry[] = [];
      let cursor = req.query.get('cursor') ?? undefined;
      let next: string | null = null;
      do {
        const page = listPage(store, query, Math.min(PAGE, maxEntries - entries.length), cursor);
        entries.push(...page.items);
        next = page.next;
        cursor = next ?? undefined;
      } while (next !== null && entries.length < maxEntries);
      chosen = { store, entries, next, ...(query.canvas !== undefined && { canvas: query.canvas }) };
    } catch (err) {
      const problem = deps.api.shown(req, deps.api.problemFor(err));
      res.cork(() => replyJson(res, problem.status, problem.json, problem.contentType, problem.headers));
      return;
    }
    stats.running += 1;
    const startedAt = performance.now();
    void send(res, req, chosen, exchange, stats)
      .then(
        (outcome) => {
          if (outcome.ok) stats.completed += 1;
          else stats.failed += 1;
          log.info(
            {
              canvas: chosen.canvas,
              entries: outcome.entries,
              bytes: outcome.bytes,
              ms: Math.round(performance.now() - startedAt),
              ok: outcome.ok,
            },
            outcome.ok ? 'Archive export sent' : `Archive export ended early: ${outcome.why}`,
          );
        },
        (err: unknown) => {
          stats.failed += 1;
          log.error({ err, canvas: chosen.canvas }, 'Archive export failed');
          if (!exchange.aborted) res.close();
        },
      )
      .finally(() => (stats.running -= 1));
  });

  return { stats: () => ({ ...stats }) };
}

function listPage(store: ArchiveStore, query: Parameters<ArchiveStore['list']>[0], limit: number, cursor: string | undefined) {
  try {
    return store.list(query, limit, cursor);
  } catch (err) {
    if (cursor === undefined || err instanceof EaselError) throw err;
    throw new EaselError('EASEL_ERR_REQUEST_INVALID', 'cursor: is not a cursor this server gave out', {
      hint: 'Pass back x-easel-export-next (or a list page\'s "next") as it came',
      details: { field: 'cursor' },
    });
  }
}

interface Outcome {
  ok: boolean;
  why?: string;
  entries: number;
  bytes: number;
}

async function send(
  res: HttpResponse,
  req: ApiRequest,
  chosen: { store: ArchiveStore; entries: ArchiveEntry[]; next: string | null; canvas?: string },
  exchange: { aborted: boolean; stop: () => void },
  stats: ExportStats,
): Promise<Outcome> {
  const { store } = chosen;
  // Sizes first: the zip's length is known before it starts, and an entry whose file went away
  // (retention, a person) is left out rather than breaking the zip halfway.
  const files: Array<{ entry: ArchiveEntry; size: number }> = [];
  for (let i = 0; i < chosen.entries.length && !exchange.aborted; i += 32) {
    const batch = chosen.entries.slice(i, i + 32);
    const sizes = await Promise.all(
      batch.map((e) =>
        ZIP_PATH.test(e.file)
          ? stat(store.imagePath(e)).then(
              (s) => s.size,
              () => -1,
            )
          : -1,
      ),
    );
    batch.forEach((entry, j) => {
      if (sizes[j]! >= 0) files.push({ entry, size: sizes[j]! });
    });
  }
  if (exchange.aborted) return { ok: false, why: 'the client left', entries: 0, bytes: 0 };
  const line = (entry: ArchiveEntry) => {
    const { endpoint, ...rest } = entry;
    return `${JSON.stringify(req.seesAll && endpoint !== undefined ? entry : rest)}\n`;
  };
  const metaBytes = files.reduce((n, f) => n + Buffer.byteLength(line(f.entry)), 0);

  const zip = new ZipFile();
  let failure: Error | undefined;
  let current: Readable | undefined;
  zip.on('error', (err: Error) => {
    failure ??= err;
    (zip.outputStream as Readable).destroy();
  });
  const reader = createReadAhead(files.map((f) => ({ path: store.imagePath(f.entry), size: f.size })));
  files.forEach(({ entry, size }, i) => {
    zip.addReadStreamLazy(entry.file, { size, compress: false, mtime: new Date(entry.madeAt) }, (cb) => {
      const stream = reader.take(i);
      stream.on('error', (err) => zip.emit('error', err));
      current = stream;
      cb(null, stream);
    });
  });
  zip.addReadStreamLazy('metadata.jsonl', { size: metaBytes, compress: false, mtime: new Date() }, (cb) => {
    const stream = Readable.from(
      (function* () {
        for (const f of files) yield Buffer.from(line(f.entry));
      })(),
    );
    current = stream;
    cb(null, stream);
  });
  // yazl passes the size it worked out (or -1), which its type declarations leave out. Its
  // estimate counts a ZIP64 end record once the central directory passes 64 KiB (about 500
  // entries) but writes one only past 4 GiB: forcing the record makes both agree.
  const sized = zip as unknown as { end(options: object, sizeKnown: (bytes: number) => void): void };
  const total = await new Promise<number>((resolve) => sized.end({ forceZip64Format: true }, resolve));
  if (total < 0) throw new Error('zip size could not be worked out ahead');

  const output = zip.outputStream as Readable;
  // The client left: everything reading stops, and the response settles as aborted.
  exchange.stop = () => {
    reader.stop();
    current?.destroy();
    output.destroy();
  };
  if (exchange.aborted) return { ok: false, why: 'the client left', entries: 0, bytes: 0 };
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  res.cork(() => {
    res
      .writeStatus('200 OK')
      .writeHeader('content-type', 'application/zip')
      .writeHeader('content-disposition', `attachment; filename="easel-archive-${chosen.canvas ?? 'all'}-${stamp}.zip"`)
      .writeHeader('cache-control', 'no-store')
      .writeHeader('x-easel-export-entries', String(files.length));
    if (chosen.next !== null) res.writeHeader('x-easel-export-next', chosen.next);
  });

  const sent = await sendSized(res, output, total, {
    aborted: () => exchange.aborted,
    onBytes: (n) => (stats.sentBytes += n),
    failure: () => failure?.message,
  });
  exchange.stop();
  return { ...sent, entries: files.length };
}
