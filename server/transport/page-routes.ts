import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { parseSlug } from '../canvas/slug.js';
import { PROJECT_ROOT } from '../config.js';
import type { Logger } from '../logger.js';
import { replyProblem } from './http-reply.js';

/** Where `npm run build` (vite) writes the display pages. */
export const DEFAULT_DIST_DIR = path.join(PROJECT_ROOT, 'display', 'dist');

export interface PageRoutesOptions {
  /** The Vite build output: c.html, wall.html, operator.html and assets/. */
  distDir: string;
  logger: Logger;
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

const PAGES = { canvas: '/c.html', wall: '/wall.html', operator: '/operator.html' } as const;
/**
 * A build is served once these are there. The console came later than the display pages: a
 * build without it still serves the displays, and /operator says to rebuild.
 */
const REQUIRED_PAGES = [PAGES.canvas, PAGES.wall] as const;
/**
 * The console sends commands with the token it keeps: no other site may frame it (a click
 * through an invisible frame would be a command) or be told its address.
 */
const CONSOLE_HEADERS = { 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'", 'referrer-policy': 'no-referrer' } as const;
/** Vite names every file under assets/ by its content hash: a URL there never changes meaning. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** Pages are revalidated on every load (cheap: 304 by ETag) so a new build shows on the next reload. */
const REVALIDATE = 'no-cache';
/** Missing files and a changed build are looked for at most this often. */
const RECHECK_MS = 2_000;
/** No file in a display build comes near this; anything bigger is not ours to serve from memory. */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

const gzipAsync = promisify(gzip);

/**
 * Serves the pages from the Vite build: `/c/:slug` (one canvas), `/wall` (several), `/operator`
 * (the technician's console; the API behind it checks the token), and `/assets/*`. Files are
 * read once into memory, asynchronously, when the routes are registered; no request ever
 * touches the disk synchronously. If the build is missing the pages answer 503 with what to do,
 * and the build is picked up without a restart once it exists (a rebuild while running is also
 * noticed, by the mtime of c.html, at most every 2 s).
 *
 * @example
 * registerPageRoutes(app, { distDir: DEFAULT_DIST_DIR, logger });
 */
export function registerPageRoutes(app: TemplatedApp, options: PageRoutesOptions): void {
  const distDir = path.resolve(options.distDir);
  const log = options.logger.child({ component: 'pages' });
  let files: DistFiles | undefined;
  let loadedMtime = 0;
  let loading: Promise<void> | undefined;
  let checkedAt = 0;
  let warnedMissing = false;

  /** Reads the whole build; keeps the previous one if the new one is not complete (a build in progress). */
  function load(): Promise<void> {
    loading ??= loadDist(distDir)
      .then((loaded) => {
        if (!loaded) {
          if (!files && !warnedMissing) {
            warnedMissing = true;
            log.warn({ distDir, hint: 'Run npm run build' }, 'Display pages are not built: /c/<slug>, /wall and /operator answer 503 until they are');
          }
          return;
        }
        files = loaded.files;
        loadedMtime = loaded.mtime;
        warnedMissing = false;
        log.debug({ distDir, files: loaded.files.size }, 'Display pages loaded');
      })
      .catch((err: unknown) => {
        log.error({ err, distDir }, 'Cannot read the display pages');
      })
      .finally(() => {
        checkedAt = Date.now();
        loading = undefined;
      });
    return loading;
  }

  /** Looks at most every RECHECK_MS for a newer build, without holding up the request that asked. */
  function recheckSoon(): void {
    if (loading || Date.now() - checkedAt < RECHECK_MS) return;
    checkedAt = Date.now();
    stat(path.join(distDir, PAGES.canvas.slice(1)))
      .then((info) => {
        if (info.mtimeMs !== loadedMtime) return load();
      })
      .catch(() => {}); // gone while running: keep serving what was loaded
  }

  function serve(res: HttpResponse, urlPath: string, kind: 'page' | 'asset', ifNoneMatch: string, acceptEncoding: string): void {
    const file = files?.get(urlPath);
    if (file) {
      if (kind === 'page') recheckSoon();
      send(res, file, ifNoneMatch, acceptEncoding);
      return;
    }
    const mayLoad = loading !== undefined || Date.now() - checkedAt >= RECHECK_MS;
    if (!mayLoad) {
      miss(res, urlPath, kind);
      return;
    }
    let aborted = false;
    res.onAborted(() => {
      aborted = true;
    });
    void load().then(() => {
      if (aborted) return;
      res.cork(() => {
        const loaded = files?.get(urlPath);
        if (loaded) send(res, loaded, ifNoneMatch, acceptEncoding);
        else miss(res, urlPath, kind);
      });
    });
  }

  function miss(res: HttpResponse, urlPath: string, kind: 'page' | 'asset'): void {
    if (kind === 'asset') {
      replyProblem(res, 404, {
        title: 'Not found',
        detail: `There is no display asset "${urlPath}"`,
        hint: 'Reload the page: it names the assets of the current build',
      });
      return;
    }
    if (urlPath === PAGES.operator && files) {
      replyProblem(res, 503, {
        title: 'The operator console is not built',
        detail: `The display build in "${distDir}" has no operator.html (it predates the console)`,
        hint: 'Run npm run build on the server, then reload this page (no restart needed)',
      });
      return;
    }
    replyProblem(res, 503, {
      title: 'Display pages are not built',
      detail: `The display pages are missing from "${distDir}"`,
      hint: 'Run npm run build on the server, then reload this page (no restart needed)',
    });
  }

  app.get('/c/:slug', (res, req) => {
    const check = parseSlug(req.getParameter(0) ?? '');
    if (!check.ok) {
      replyProblem(res, 400, { title: 'Invalid canvas slug', detail: check.reason, hint: 'Use lowercase letters, digits and dashes, e.g. /c/left-canva', code: 'EASEL_ERR_SLUG_INVALID' });
      return;
    }
    serve(res, PAGES.canvas, 'page', req.getHeader('if-none-match'), req.getHeader('accept-encoding'));
  });

  app.get('/wall', (res, req) => {
    serve(res, PAGES.wall, 'page', req.getHeader('if-none-match'), req.getHeader('accept-encoding'));
  });

  for (const url of ['/operator', '/operator/']) {
    app.get(url, (res, req) => {
      serve(res, PAGES.operator, 'page', req.getHeader('if-none-match'), req.getHeader('accept-encoding'));
    });
  }

  app.get('/assets/*', (res, req) => {
    serve(res, req.getUrl(), 'asset', req.getHeader('if-none-match'), req.getHeader('accept-encoding'));
  });

  void load();
}

/** Writes one file. Only call it while the response is corked (inside a uWS handler or res.cork). */
function send(res: HttpResponse, file: StaticFile, ifNoneMatch: string, acceptEncoding: string): void {
  if (ifNoneMatch && ifNoneMatch.split(',').some((tag) => tag.trim().replace(/^W\//, '') === file.etag)) {
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

/** The build as URL path → file; undefined when it is not (completely) there. */
async function loadDist(distDir: string): Promise<{ files: DistFiles; mtime: number } | undefined> {
  let pageInfo;
  try {
    pageInfo = await Promise.all(REQUIRED_PAGES.map((p) => stat(path.join(distDir, p.slice(1)))));
  } catch {
    return undefined;
  }
  const files: DistFiles = new Map();
  for (const page of REQUIRED_PAGES) files.set(page, await readStatic(path.join(distDir, page.slice(1)), REVALIDATE));
  const consolePage = path.join(distDir, PAGES.operator.slice(1));
  const consoleInfo = await stat(consolePage).catch(() => undefined);
  if (consoleInfo?.isFile()) files.set(PAGES.operator, await readStatic(consolePage, REVALIDATE, CONSOLE_HEADERS));
  const assetsDir = path.join(distDir, 'assets');
  let entries: string[] = [];
  try {
    entries = await readdir(assetsDir, { recursive: true });
  } catch {
    // A build with no assets is odd but servable.
  }
  for (const entry of entries) {
    const file = path.join(assetsDir, entry);
    const info = await stat(file);
    if (!info.isFile() || info.size > MAX_FILE_BYTES) continue;
    files.set(`/assets/${entry.split(path.sep).join('/')}`, await readStatic(file, IMMUTABLE));
  }
  return { files, mtime: pageInfo[0]!.mtimeMs };
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
