import type { TemplatedApp } from 'uWebSockets.js';
import { createDisplay, type Display } from '../canvas/channel.js';
import type { Canvas } from '../canvas/canvas.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { MJPEG_CONTENT_TYPE, MJPEG_PADDING } from '../stream/mjpeg-part.js';
import { chooseRendition, type RenditionSpec } from '../stream/rendition.js';
import type { DisplayAdmission } from './display-admission.js';
import type { DisplayEvent } from './display-route.js';
import type { Problem } from './http-reply.js';
import type { TilePosition } from '../../protocol/wire.js';
import { createMjpegSocket, type MjpegSocket } from './mjpeg-socket.js';

const SUFFIX = '.mjpeg';
/** The most pixels on a side a reader may ask for, as for a display's viewport. */
const MAX_SIDE = 16_384;

export interface MjpegRouteOptions {
  /** The display route's checks: token, host, limits, slug, canvas, tile. */
  admission: DisplayAdmission;
  logger: Logger;
  clock: Clock;
  /** Told of each reader that connects or goes, like the display route's (webhooks, OSC out, consoles). */
  onDisplay?: (event: DisplayEvent) => void;
}

interface Reader {
  canvas: Canvas;
  display: Display;
  socket: MjpegSocket;
}

export interface MjpegRoute {
  /** MJPEG readers connected now, counted with the WebSocket displays against limits.maxConnections. */
  readonly readers: number;
  /** Ends every stream, so shutdown does not wait on open readers. */
  closeAll(): void;
}

/** `?w=` and `?h=`: whole pixels the reader shows the stream at, like a display's viewport; either alone is the long edge. */
export function parseMjpegSize(
  query: URLSearchParams,
): { ok: true; value: { w: number; h: number } | undefined } | { ok: false; problem: Problem } {
  const read = (name: 'w' | 'h') => {
    const raw = query.get(name);
    if (raw === null) return undefined;
    const n = /^\d{1,5}$/.test(raw) ? Number(raw) : Number.NaN;
    return n >= 1 && n <= MAX_SIDE ? n : raw;
  };
  const w = read('w');
  const h = read('h');
  for (const [name, v] of [
    ['w', w],
    ['h', h],
  ] as const) {
    if (typeof v === 'string')
      return {
        ok: false,
        problem: {
          title: 'Invalid size',
          detail: `${name}: value ${JSON.stringify(v.slice(0, 40))} is not a whole number of pixels from 1 to ${MAX_SIDE}`,
          hint: 'Use e.g. ?w=1280&h=720, or leave both out for the canvas at full size',
        },
      };
  }
  if (w === undefined && h === undefined) return { ok: true, value: undefined };
  return { ok: true, value: { w: (w ?? h) as number, h: (h ?? w) as number } };
}

/** The reader's rendition: as a display with that screen would get, always as JPEG (encoded for MJPEG readers when the canvas offers none). */
export function mjpegRendition(
  canvas: Canvas,
  viewport: { w: number; h: number } | undefined,
  tile: TilePosition | undefined,
): RenditionSpec {
  const spec = chooseRendition(canvas.config, {
    mode: 'binary',
    accept: ['jpeg'],
    viewport: viewport && { ...viewport, dpr: 1 },
    tile,
  });
  return spec.format === 'jpeg' ? spec : { ...spec, format: 'jpeg' };
}

/**
 * `GET /c/<slug>.mjpeg`: the canvas as an MJPEG stream, for tools that show a camera URL (VLC,
 * OBS, ffmpeg, an `<img>`). Each reader is a display of the canvas (mode and wire `mjpeg`): one
 * encode per rendition shared by every reader, a slow reader skips frames and is closed when
 * stuck, and it counts against the display limits. Registered before the page route of the same
 * pattern (`/c/:slug`), to which it yields any slug without the suffix.
 */
export function registerMjpegRoute(app: TemplatedApp, options: MjpegRouteOptions): MjpegRoute {
  const { admission, clock } = options;
  const log = options.logger;
  const readers = new Set<Reader>();
  const announce = (event: DisplayEvent['event'], canvas: Canvas, display: Display) =>
    options.onDisplay?.({
      type: 'display',
      slug: canvas.slug,
      event,
      display: display.id,
      address: display.remoteAddress,
      displays: canvas.channel.displays.size,
    });

  app.get('/c/:slug', (res, req) => {
    const raw = req.getParameter(0) ?? '';
    if (!raw.endsWith(SUFFIX)) {
      req.setYield(true);
      return;
    }
    const admitted = admission.admit(res, req, {
      prefix: '/c/',
      suffix: SUFFIX,
      slug: raw.slice(0, -SUFFIX.length),
      validate: parseMjpegSize,
    });
    if (!admitted) return;
    const { canvas, remoteAddress, tile, value: viewport } = admitted;
    const spec = mjpegRendition(canvas, viewport, tile);
    const head = req.getMethod() === 'head';
    res
      .writeStatus('200 OK')
      .writeHeader('content-type', MJPEG_CONTENT_TYPE)
      .writeHeader('cache-control', 'no-store, no-cache, must-revalidate')
      .writeHeader('pragma', 'no-cache')
      .writeHeader('x-accel-buffering', 'no')
      .writeHeader('x-content-type-options', 'nosniff');
    if (head) {
      res.endWithoutBody();
      return;
    }

    let reader: Reader | undefined;
    const leave = () => {
      if (!reader) return;
      const { display } = reader;
      readers.delete(reader);
      reader = undefined;
      canvas.detach(display);
      log.debug({ slug: canvas.slug, display: display.id, sent: display.sent, skipped: display.skipped }, 'MJPEG reader disconnected');
      announce('lost', canvas, display);
    };
    const socket = createMjpegSocket(res, {
      onDrained: () => reader && canvas.drained(reader.display),
      onFinished: leave,
      onError: (err) => log.error({ err, slug: canvas.slug }, 'Unexpected error writing an MJPEG stream: the server goes on'),
    });
    res.onAborted(() => {
      try {
        socket.aborted();
      } catch (err) {
        log.error({ err, slug: canvas.slug }, 'Unexpected error letting an MJPEG reader go: the server goes on');
      }
    });
    // The headers go out now, so a reader sees the stream open before the first frame is ready.
    socket.send(MJPEG_PADDING, false);
    const display = createDisplay({
      socket,
      mode: 'mjpeg',
      wire: 'mjpeg',
      spec,
      remoteAddress,
      userAgent: req.getHeader('user-agent'),
      now: clock.now(),
    });
    reader = { canvas, display, socket };
    readers.add(reader);
    canvas.attach(display); // the latest frame goes out at once (or once its rendition is made)
    log.debug({ slug: canvas.slug, display: display.id, address: remoteAddress, rendition: display.key }, 'MJPEG reader connected');
    announce('connected', canvas, display);
  });

  return {
    get readers() {
      return readers.size;
    },
    closeAll() {
      for (const { socket } of [...readers]) socket.end(1001, 'Server shutting down');
    },
  };
}
