import type { Browser, Page } from 'playwright-core';
import { launchChromium, openPage, type WatchedPage } from '../browser/browser.js';
import { clockShiftScript } from './clock-shift.js';
import { createDelayProxy, type DelayProxy } from './delay-proxy.js';
import { CODE_COUNT, codeColour, codeOf } from './frame-codes.js';
import { meanColour, putImage, solidPng } from './images.js';
import { recordScreen, type ScreenRecorder } from './screen-recorder.js';
import { startTestServer, tempFolder, type TestServer } from './server.js';
import { alignTo, appearances, skewOver, type Appearance, type SkewFigures } from './skew-analysis.js';
import { percentile } from '../../tools/bench/support/stats.js';

declare const document: any;
declare const window: any;

export interface ScreenRigOptions {
  fps?: number;
  /** More keys for the canvas declaration, e.g. `{ leadMs: 150 }` or `{ sync: false }`. */
  canvas?: Record<string, unknown>;
  /** More EASEL_* settings for the server. */
  env?: Record<string, string>;
  launch?: () => Promise<Browser>;
  log?: (line: string) => void;
}

export interface ScreenRunOptions {
  /** Frames measured, after the warm-up. */
  frames?: number;
  /** Frames left out at the start: connecting, the first decodes, a clock sync settling. */
  warmUpFrames?: number;
  /** Screen B's link to the server: delayed chunks (a Wi-Fi-like link), or null for a direct one. */
  proxy?: { minDelayMs: number; maxDelayMs: number } | null;
  /** How far screen B's clock is off, in ms (its page scripts see it; the recording does not). */
  clockShiftMs?: number;
  /** The display page's query string, e.g. `?time=0`. */
  query?: string;
  /** Gives up (and reports what it has) after this long; enough for the frames at `fps` plus 30 s when left out. */
  timeoutMs?: number;
}

export type ScreenSkewOptions = ScreenRigOptions & ScreenRunOptions;

export interface ScreenSkewResult extends SkewFigures {
  settings: Required<Pick<ScreenSkewOptions, 'frames' | 'warmUpFrames' | 'fps' | 'clockShiftMs' | 'query'>> & {
    proxy: ScreenRunOptions['proxy'];
  };
  /** `stats.framesLate` of each screen's `<easel-canvas>` over the measurement, null where the display has none. */
  late: { a: number | null; b: number | null };
  /** Screen pictures received, and (receipt − timestamp) in ms: median and extremes, per screen. */
  recording: { a: RecordingCheck; b: RecordingCheck };
  /** What screen B's page reads from Date.now(), new Date() and timeOrigin + performance.now(), minus the real time. */
  clockShiftSeenMs: { dateNow: number; newDate: number; timeOrigin: number };
  /** `stats` of each screen's `<easel-canvas>` at the end (clock offset, round trip, counters). */
  displayStats: { a: Record<string, unknown> | null; b: Record<string, unknown> | null };
  /** Console errors and warnings of each page. */
  problems: { a: string[]; b: string[] };
  /** The time each page showed in its corner for its last frame, against when the recording saw that frame appear. */
  shownTime: { a: ShownTimeCheck | null; b: ShownTimeCheck | null };
}

export interface ShownTimeCheck {
  /** The frame's code (its colour). */
  code: number;
  /** `stats.shownAt`: what the corner shows, epoch ms on the server's clock. */
  shownAt: number;
  /** When the recording saw that frame appear on the screen, epoch ms on this machine's clock. */
  appearedAt: number;
  /** shownAt − appearedAt. */
  differenceMs: number;
}

export interface RecordingCheck {
  pictures: number;
  lagMedianMs: number;
  lagMinMs: number;
  lagMaxMs: number;
}

const SLUG = 'in-step';
const VIEWPORT = { width: 480, height: 270 };

function check(recorder: ScreenRecorder): RecordingCheck {
  const lags = Float64Array.from(recorder.lagsMs).sort();
  const r = (v: number | undefined) => Math.round((v ?? NaN) * 10) / 10;
  return { pictures: lags.length, lagMedianMs: r(percentile(lags, 50)), lagMinMs: r(lags[0]), lagMaxMs: r(lags.at(-1)) };
}

function displayStats(page: Page): Promise<Record<string, unknown> | null> {
  return page.evaluate(() => {
    const stats = document.querySelector('easel-canvas')?.stats;
    return stats ? JSON.parse(JSON.stringify(stats)) : null;
  });
}

function framesLate(page: Page): Promise<number | null> {
  return page.evaluate(() => {
    const late = document.querySelector('easel-canvas')?.stats?.framesLate;
    return typeof late === 'number' ? late : null;
  });
}

/** One frame's seq and code, from the canvas's latest frame: frames play in code order, so it names every other seq's code. */
async function frameAnchor(server: TestServer): Promise<{ seq: number; code: number } | null> {
  const res = await fetch(server.http(`/api/canvases/${SLUG}/frame?format=jpeg`));
  if (!res.ok) return null;
  const code = codeOf(await meanColour(new Uint8Array(await res.arrayBuffer())));
  return code === null ? null : { seq: Number(res.headers.get('x-easel-seq')), code };
}

/** The page's corner time for its last frame, set against the moment that frame appeared on screen. */
function shownTimeCheck(
  stats: Record<string, unknown> | null,
  anchor: { seq: number; code: number } | null,
  seen: readonly Appearance[],
): ShownTimeCheck | null {
  const seq = (stats?.lastFrame as { seq?: unknown } | null)?.seq;
  const shownAt = stats?.shownAt;
  if (!anchor || typeof seq !== 'number' || typeof shownAt !== 'number') return null;
  const code = (((anchor.code + seq - anchor.seq) % CODE_COUNT) + CODE_COUNT) % CODE_COUNT;
  const appeared = seen.findLast((x) => x.code === code);
  return appeared ? { code, shownAt, appearedAt: appeared.t, differenceMs: Math.round((shownAt - appeared.t) * 10) / 10 } : null;
}

const lateDelta = (before: number | null, after: number | null) => (before === null || after === null ? null : after - before);

export interface ScreenRig {
  /** One measurement on fresh pages (and a fresh proxy): each run's screens connect anew. */
  measure(run?: ScreenRunOptions): Promise<ScreenSkewResult>;
  close(): Promise<void>;
}

/**
 * Two screens of one canvas: the real server with a canvas of solid-colour frames (each colour
 * names its frame, see frame-codes.ts) and two separate Chromium processes, as two screens
 * would be. Each run opens `/c/in-step` on both, screen B through a delay proxy and with its
 * clock shifted when asked, records from outside each page the moment every new frame reached
 * the screen (see screen-recorder.ts), pairs the frames and reports |tA − tB| over `frames` frames.
 */
export async function createScreenRig(options: ScreenRigOptions = {}): Promise<ScreenRig> {
  const fps = options.fps ?? 4;
  const launch = options.launch ?? launchChromium;
  const log = options.log ?? (() => {});
  const folder = tempFolder('easel-in-step-');
  const cleanup: Array<() => Promise<unknown> | unknown> = [() => folder.remove()];
  const close = async () => {
    for (const fn of cleanup.splice(0)) await Promise.resolve(fn()).catch(() => {});
  };
  try {
    await Promise.all(
      Array.from({ length: CODE_COUNT }, async (_, code) =>
        putImage(folder.dir, `frame-${String(code).padStart(2, '0')}.png`, await solidPng(codeColour(code), 256, 144)),
      ),
    );
    const server = await startTestServer({
      EASEL_CANVASES: JSON.stringify([
        { slug: SLUG, source: { path: folder.dir, order: 'name' }, fps, width: 256, height: 144, ...options.canvas },
      ]),
      EASEL_CREATE_CANVASES_ON_CONNECT: 'false',
      EASEL_LOG_LEVEL: 'warn',
      ...options.env,
    });
    cleanup.unshift(() => server.close());
    const [browserA, browserB] = await Promise.all([launch(), launch()]);
    cleanup.unshift(
      () => browserA.close(),
      () => browserB.close(),
    );
    return { measure: (run = {}) => measureOnce(server, [browserA, browserB], fps, run, log), close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** A rig for one run, closed again: see createScreenRig. */
export async function measureScreenSkew(options: ScreenSkewOptions = {}): Promise<ScreenSkewResult> {
  const rig = await createScreenRig(options);
  try {
    return await rig.measure(options);
  } finally {
    await rig.close();
  }
}

async function measureOnce(
  server: TestServer,
  [browserA, browserB]: [Browser, Browser],
  fps: number,
  options: ScreenRunOptions,
  log: (line: string) => void,
): Promise<ScreenSkewResult> {
  const frames = options.frames ?? 100;
  const warmUpFrames = options.warmUpFrames ?? 8;
  const clockShiftMs = options.clockShiftMs ?? 0;
  const query = options.query ?? '';
  const proxyOptions = options.proxy ?? null;
  const timeoutMs = options.timeoutMs ?? ((frames + warmUpFrames + 8) / fps) * 1000 + 30_000;
  const cleanup: Array<() => Promise<unknown> | unknown> = [];
  try {
    let proxy: DelayProxy | undefined;
    if (proxyOptions) {
      proxy = await createDelayProxy({ target: { host: '127.0.0.1', port: server.port }, ...proxyOptions });
      cleanup.unshift(() => proxy!.close());
    }
    const [a, b]: [WatchedPage, WatchedPage] = await Promise.all([
      openPage(browserA, VIEWPORT.width, VIEWPORT.height),
      openPage(browserB, VIEWPORT.width, VIEWPORT.height),
    ]);
    cleanup.unshift(
      () => a.close(),
      () => b.close(),
    );
    if (clockShiftMs !== 0) await b.page.addInitScript({ content: clockShiftScript(clockShiftMs) });
    const [recA, recB] = await Promise.all([recordScreen(a.page), recordScreen(b.page)]);
    cleanup.unshift(
      () => recA.stop(),
      () => recB.stop(),
    );
    await Promise.all([
      a.page.goto(`${server.http(`/c/${SLUG}`)}${query}`),
      b.page.goto(`http://127.0.0.1:${proxy?.port ?? server.port}/c/${SLUG}${query}`),
    ]);
    const clockShiftSeenMs = await b.page.evaluate(() => {
      const real = window.__easelRealNow ? window.__easelRealNow() : Date.now();
      return {
        dateNow: Date.now() - real,
        // biome-ignore lint/complexity/useDateNow: a new Date object is what is checked here, not Date.now again
        newDate: new Date().getTime() - real,
        timeOrigin: Math.round(performance.timeOrigin + performance.now() - real),
      };
    });

    const analyse = () => {
      const seenA = appearances(recA.samples, CODE_COUNT);
      const seenB = alignTo(seenA, appearances(recB.samples, CODE_COUNT), CODE_COUNT);
      return { seenA, seenB, figures: skewOver(seenA, seenB, frames, warmUpFrames) };
    };
    const lastSeq = (list: Array<{ seq: number }>) => list.at(-1)?.seq ?? -1;

    // Late counts from the end of the warm-up on; the window itself is fixed afterwards.
    const deadline = Date.now() + timeoutMs;
    let lateBefore: Array<number | null> | undefined;
    for (;;) {
      const { seenA, seenB, figures } = analyse();
      const firstSeq = figures.perFrame[0]!.seq;
      if (!lateBefore && Math.min(lastSeq(seenA), lastSeq(seenB)) >= firstSeq - 1 && seenA.length > 0 && seenB.length > 0) {
        lateBefore = await Promise.all([framesLate(a.page), framesLate(b.page)]);
        log(`screens in step: warm-up done, measuring ${frames} frames`);
      }
      // Two frames past the window, so a late last frame on either screen still counts.
      if (Math.min(lastSeq(seenA), lastSeq(seenB)) >= firstSeq + frames + 1) break;
      if (Date.now() > deadline) {
        log(`screens in step: gave up after ${timeoutMs} ms with frames up to ${lastSeq(seenA)} on A and ${lastSeq(seenB)} on B`);
        break;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    const lateAfter = await Promise.all([framesLate(a.page), framesLate(b.page)]);
    const [statsA, statsB] = await Promise.all([displayStats(a.page), displayStats(b.page)]);
    const anchor = await frameAnchor(server);
    await Promise.all([recA.stop(), recB.stop()]);
    const { figures, seenA, seenB } = analyse();
    return {
      ...figures,
      settings: { frames, warmUpFrames, fps, clockShiftMs, query, proxy: proxyOptions },
      late: { a: lateDelta(lateBefore?.[0] ?? null, lateAfter[0]!), b: lateDelta(lateBefore?.[1] ?? null, lateAfter[1]!) },
      recording: { a: check(recA), b: check(recB) },
      clockShiftSeenMs,
      displayStats: { a: statsA, b: statsB },
      problems: { a: [...a.problems], b: [...b.problems] },
      shownTime: { a: shownTimeCheck(statsA, anchor, seenA), b: shownTimeCheck(statsB, anchor, seenB) },
    };
  } finally {
    for (const fn of cleanup) await Promise.resolve(fn()).catch(() => {});
  }
}
