import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { parseSlug } from '../canvas/slug.js';
import { PROJECT_ROOT } from '../config.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../stream/clock.js';
import { watchFolder } from '../stream/folder-watch.js';
import { replyProblem } from './http-reply.js';

/** Where `npm run build` (vite) writes the display pages. */
export const DEFAULT_DIST_DIR = path.join(PROJECT_ROOT, 'display', 'dist');

export interface PageRoutesOptions {
  /** The Vite build output: c.html, wall.html, operator.html, gallery.html and assets/. */
  distDir: string;
  logger: Logger;
  clock?: Clock;
}

interface StaticFile {
  body: Buffer;
  /** Kept only when it is worth it (text, and smaller). */
  gzipped: Buffer | undefined;
  contentType: string;
  cacheControl: string;
  etag: string;
  /** More response headers for this file. */
  headers: Record<string, string>;
}

type DistFiles = Map<string, StaticFile>;

interface Build {
  files: DistFiles;
  /** The pages' names, mtimes and sizes: a new build changes it. */
  signature: string;
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.avif': 'image/avif',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
};

const PAGES = { canvas: 'c.html', wall: 'wall.html', operator: 'operator.html', gallery: 'gallery.html' } as const;
const PAGE_FILES = new Set<string>(Object.values(PAGES));
/**
 * The console sends commands with the token it keeps: no other site may frame it (a click
 * through an invisible frame would be a command) or be told its address.
 */
const CONSOLE_HEADERS = {
  'x-frame-options': 'DENY',
  'content-security-policy': "frame-ancestors 'none'",
  'referrer-policy': 'no-referrer',
} as const;
/** Vite names every file under assets/ by its content hash: a URL there never changes meaning. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Pages are revalidated on every load (cheap: 304 by ETag) so a new build shows on the next reload. */
const REVALIDATE = 'no-cache';
/** No file in a display build comes near this; anything bigger is not ours to serve from memory. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;
/** Until a build appears, and behind lost change events, the build folder is looked at this often. */
const RESCAN_MS = 2_000;

const gzipAsync = promisify(gzip);

/**
 * Serves the pages from the Vite build: `/c/:slug` (one canvas), `/wall` (several), `/operator`
 * (the technician's console; the API behind it checks the token), `/gallery` (the archive), and
 * `/assets/*`. The build is
 * read into memory, asynchronously, at start and again when the build folder changes (a build
 * made while running shows on the next reload); no request touches the disk. A page missing
 * from the build answers 503 with what to do.
 *
 * @example
 * const pages = registerPageRoutes(app, { distDir: DEFAULT_DIST_DIR, logger });
 * pages.close(); // stops watching the build folder
 */
export function registerPageRoutes(app: TemplatedApp, options: PageRoutesOptions): { close(): void } {
  const distDir = path.resolve(options.distDir);
  const log = options.logger.child({ component: 'pages' });
  const stop = new AbortController();
  let build: Build | undefined;
  let warnedMissing = false;

  /** Loads the build when it changed; a build not (yet) complete leaves the previous one serving. */
  async function reload(): Promise<boolean> {
    try {
      const loaded = await loadDist(distDir, build);
      if (loaded === 'unreadable' || loaded === 'incomplete') {
        if (!build && !warnedMissing) {
          warnedMissing = true;
          log.warn(
            { distDir, hint: 'Run npm run build' },
            'Display pages are not built: /c/<slug>, /wall and /operator answer 503 until they are',
          );
        }
        return loaded === 'incomplete';
      }
      if (loaded !== build) log.debug({ distDir, files: loaded.files.size }, 'Display pages loaded');
      build = loaded;
    } catch (err) {
      log.error({ err, distDir }, 'Cannot read the display pages');
    }
    return true;
  }

  let starting = true;
  const firstLoad = watchFolder({
    dir: distDir,
    clock: options.clock ?? systemClock,
    signal: stop.signal,
    scan: reload,
    debounceMs: 200,
    rescanIntervalMs: RESCAN_MS,
  })
    .rescan()
    .finally(() => {
      starting = false;
    });

  function serve(res: HttpResponse, urlPath: string, kind: 'page' | 'asset', ifNoneMatch: string, acceptEncoding: string): void {
    if (starting) {
      // A display that asks in the first moment gets the build, not a 503.
      let aborted = false;
      res.onAborted(() => {
        aborted = true;
      });
      void firstLoad.then(() => {
        if (!aborted) res.cork(() => serve(res, urlPath, kind, ifNoneMatch, acceptEncoding));
      });
      return;
    }
    const file = build?.files.get(urlPath);
    if (file) send(res, file, ifNoneMatch, acceptEncoding);
    else if (kind === 'asset') {
      replyProblem(res, 404, {
        title: 'Not found',
        detail: `There is no display asset "${urlPath}"`,
        hint: 'Reload the page: it names the assets of the current build',
      });
    } else {
      replyProblem(res, 503, {
        title: 'Display pages are not built',
        detail: `The display page "${urlPath.slice(1)}" is missing from "${distDir}"`,
        hint: 'Run npm run build on the server, then reload this page (no restart needed)',
      });
    }
  }

  const page = (name: string) => (res: HttpResponse, req: HttpRequest) =>
    serve(res, `/${name}`, 'page', req.getHeader('if-none-match'), req.getHeader('accept-encoding'));
  const canvasPage = page(PAGES.canvas);

  app.get('/c/:slug', (res, req) => {
    const check = parseSlug(req.getParameter(0) ?? '');
    if (!check.ok) {
      replyProblem(res, 400, {
        title: 'Invalid canvas slug',
        detail: check.reason,
        hint: 'Use lowercase letters, digits and dashes, e.g. /c/left-canva',
        code: 'EASEL_ERR_SLUG_INVALID',
      });
      return;
    }
    canvasPage(res, req);
  });
  app.get('/wall', page(PAGES.wall));
  app.get('/operator', page(PAGES.operator));
  app.get('/operator/', page(PAGES.operator));
  app.get('/gallery', page(PAGES.gallery));
  app.get('/gallery/', page(PAGES.gallery));
  app.get('/assets/*', (res, req) => {
    serve(res, req.getUrl(), 'asset', req.getHeader('if-none-match'), req.getHeader('accept-encoding'));
  });

  return { close: () => stop.abort() };
}

/** Writes one file. Only call it while the response is corked (inside a uWS handler or res.cork). */
function send(res: HttpResponse, file: StaticFile, ifNoneMatch: string, acceptEncoding: string): void {
  if (ifNoneMatch?.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
    res.writeStatus('304 Not Modified').writeHeader('etag', file.etag).writeHeader('cache-control', file.cacheControl).endWithoutBody();
    return;
  }
  res
    .writeStatus('200 OK')
    .writeHeader('content-type', file.contentType)
    .writeHeader('cache-control', file.cacheControl)
    .writeHeader('etag', file.etag)
    .writeHeader('x-content-type-options', 'nosniff');
  for (const [name, value] of Object.entries(file.headers)) res.writeHeader(name, value);
  if (!file.gzipped) {
    res.end(file.body);
    return;
  }
  res.writeHeader('vary', 'accept-encoding');
  if (/\bgzip\b/.test(acceptEncoding)) res.writeHeader('content-encoding', 'gzip').end(file.gzipped);
  else res.end(file.body);
}

/**
 * Reads the build as URL path → file: every page at the top of `distDir` and every file under
 * assets/. Returns `current` itself when its pages are unchanged (Vite renames every asset it
 * changes, so the pages change with them), 'incomplete' while c.html is missing and
 * 'unreadable' while the folder is.
 */
async function loadDist(distDir: string, current: Build | undefined): Promise<Build | 'incomplete' | 'unreadable'> {
  let names: string[];
  try {
    names = (await readdir(distDir)).filter((n) => PAGE_FILES.has(n)).sort();
  } catch {
    return 'unreadable';
  }
  if (!names.includes(PAGES.canvas)) return 'incomplete';
  const pages = await Promise.all(names.map(async (name) => ({ name, info: await stat(path.join(distDir, name)) })));
  const signature = pages.map((p) => `${p.name}:${p.info.mtimeMs}:${p.info.size}`).join('|');
  if (current?.signature === signature) return current;
  const files: DistFiles = new Map();
  for (const { name } of pages)
    files.set(
      `/${name}`,
      await readStatic(path.join(distDir, name), REVALIDATE, name === PAGES.operator || name === PAGES.gallery ? CONSOLE_HEADERS : {}),
    );
  const assetsDir = path.join(distDir, 'assets');
  const entries = await readdir(assetsDir, { recursive: true }).catch(() => [] as string[]); // a build with no assets is odd but servable
  for (const entry of entries) {
    const file = path.join(assetsDir, entry);
    const info = await stat(file);
    if (!info.isFile() || info.size > MAX_FILE_BYTES) continue;
    files.set(`/assets/${entry.split(path.sep).join('/')}`, await readStatic(file, IMMUTABLE));
  }
  return { files, signature };
}

async function readStatic(file: string, cacheControl: string, headers: Record<string, string> = {}): Promise<StaticFile> {
  const body = await readFile(file);
  const contentType = CONTENT_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  const compressible = /^(text\/|application\/json|image\/svg)/.test(contentType) && body.length > 512;
  const packed = compressible ? await gzipAsync(body, { level: 9 }) : undefined;
  return {
    body,
    gzipped: packed && packed.length < body.length ? packed : undefined,
    contentType,
    cacheControl,
    etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 16)}"`,
    headers,
  };
}
