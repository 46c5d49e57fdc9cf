import type { PresenterStats } from './canvas-stats.js';
import type { FrameHeader, TransitionKind } from '../../protocol/wire.js';
import { createPresentScheduler, DEFAULT_MAX_WAITING } from './present-scheduler.js';

export interface Transition {
  kind: TransitionKind;
  ms: number;
}

export interface PresenterOptions {
  /**
   * Called once a frame is on screen (its transition may still be running). `at` is the
   * animation frame it went on (or the moment, when shown outside one), on `performance.now()`'s clock.
   */
  onShown(header: FrameHeader, at: number): void;
  /** Read at each swap, so a change of attribute or hello applies from the next frame. */
  transition(): Transition;
  /** When to show the frame, on `performance.now()`'s clock (its `presentAt`); undefined shows it once decoded. */
  dueAt(header: FrameHeader): number | undefined;
  /** Most decoded frames waiting for their time; the oldest is dropped beyond it. */
  maxWaiting?(): number;
}

/** Without animation frames for this long (hidden or throttled page), frames due are shown from a timer. */
export const WATCHDOG_MS = 500;

interface Decoded {
  header: FrameHeader;
  bitmap: ImageBitmap;
}

interface Layer {
  canvas: HTMLCanvasElement;
  bitmaps: ImageBitmapRenderingContext | null;
  plain: CanvasRenderingContext2D | null;
}

/**
 * Shows frames on two stacked canvases with no flicker: each image is decoded off the main
 * thread (`createImageBitmap`) before anything on screen changes, waits for the animation
 * frame nearest its due time (the present scheduler decides which), then is handed to the
 * hidden layer (`transferFromImageBitmap`: no copy, the bitmap is consumed) and the layers
 * swap, cut or crossfade, so every screen of a canvas changes, and starts its fade, on the same
 * refresh. At most one decode runs at a time and only the newest undecoded frame is kept, so a
 * slow screen skips frames instead of queueing them; decoded frames waiting for their time are
 * capped. Every bitmap is either transferred or closed, and a layer that is no longer visible
 * is emptied, so memory stays flat for weeks. Scaling (contain / cover) is CSS `object-fit`.
 */
export class FramePresenter {
  readonly stats: PresenterStats = {
    framesReceived: 0,
    framesShown: 0,
    framesDropped: 0,
    framesLate: 0,
    framesEarly: 0,
    decodeErrors: 0,
    liveBitmaps: 0,
    peakLiveBitmaps: 0,
  };
  shown: FrameHeader | undefined;

  private readonly options: PresenterOptions;
  private layers: [Layer, Layer] | undefined;
  private front = 0;
  private decoding = false;
  private next: { header: FrameHeader; image: Uint8Array } | undefined;
  private readonly scheduler = createPresentScheduler<Decoded>({
    show: (frame, at, late) => {
      if (late) this.stats.framesLate++;
      this.show(frame.header, frame.bitmap, at);
    },
    drop: (frame) => {
      this.stats.framesDropped++;
      this.release(frame.bitmap);
    },
    maxWaiting: () => this.options.maxWaiting?.() ?? DEFAULT_MAX_WAITING,
  });
  private animationFrame: number | undefined;
  private watchdog: number | undefined;
  private lastTick = 0;
  private fade: { animation: Animation; outgoing: Layer } | undefined;
  private generation = 0;

  constructor(options: PresenterOptions) {
    this.options = options;
  }

  /** Gives the presenter its two canvases (after the host's first render). */
  attach(canvases: [HTMLCanvasElement, HTMLCanvasElement]): void {
    this.layers = [layer(canvases[0]), layer(canvases[1])];
    this.pump();
  }

  /** A frame arrived. You MUST NOT reuse `image`'s buffer afterwards: it is read later. */
  push(header: FrameHeader, image: Uint8Array): void {
    this.stats.framesReceived++;
    if (this.next) this.stats.framesDropped++;
    this.next = { header, image };
    this.pump();
  }

  /** Drops frames not shown yet (the host left the page) and keeps the one on screen. */
  idle(): void {
    this.generation++;
    if (this.next) this.stats.framesDropped++;
    this.next = undefined;
    if (this.animationFrame !== undefined) cancelAnimationFrame(this.animationFrame);
    this.animationFrame = undefined;
    window.clearTimeout(this.watchdog);
    this.watchdog = undefined;
    this.scheduler.clear();
    this.completeFade();
  }

  private pump(): void {
    if (this.decoding || !this.next || !this.layers) return;
    const { header, image } = this.next;
    this.next = undefined;
    this.decoding = true;
    const generation = this.generation;
    createImageBitmap(new Blob([image as Uint8Array<ArrayBuffer>], { type: header.mime }))
      .then((bitmap) => {
        this.count(+1);
        if (generation !== this.generation) this.release(bitmap);
        else this.decoded(header, bitmap);
      })
      .catch(() => {
        this.stats.decodeErrors++; // a corrupt image: skip it, the next one comes soon
      })
      .finally(() => {
        this.decoding = false;
        this.pump();
      });
  }

  private decoded(header: FrameHeader, bitmap: ImageBitmap): void {
    // A hidden page gets no animation frames: waiting for one would pile bitmaps up.
    const dueAt = document.hidden ? undefined : this.options.dueAt(header);
    const early = this.scheduler.stats.early;
    this.scheduler.add({ header, bitmap }, dueAt, performance.now());
    this.stats.framesEarly += this.scheduler.stats.early - early;
    this.wait();
  }

  /** Asks for the next animation frame while frames wait, with a timer behind it in case none comes. */
  private wait(): void {
    if (this.scheduler.waiting === 0) return;
    this.animationFrame ??= requestAnimationFrame(this.onAnimationFrame);
    this.watchdog ??= window.setTimeout(this.onWatchdog, WATCHDOG_MS);
  }

  private readonly onAnimationFrame = (timestamp: number): void => {
    this.animationFrame = undefined;
    this.lastTick = performance.now();
    this.scheduler.tick(timestamp);
    this.wait();
  };

  private readonly onWatchdog = (): void => {
    this.watchdog = undefined;
    const now = performance.now();
    if (document.hidden) this.scheduler.flush(now);
    else if (now - this.lastTick >= WATCHDOG_MS) this.scheduler.catchUp(now);
    this.wait();
  };

  private show(header: FrameHeader, bitmap: ImageBitmap, at: number): void {
    const layers = this.layers;
    if (!layers) return this.release(bitmap);
    this.completeFade();
    const outgoing = layers[this.front]!;
    const incoming = layers[1 - this.front]!;
    draw(incoming, bitmap);
    this.count(-1);
    incoming.canvas.style.zIndex = '2';
    outgoing.canvas.style.zIndex = '1';
    incoming.canvas.style.opacity = '1';
    const { kind, ms } = this.options.transition();
    if (kind === 'crossfade' && ms > 0 && typeof incoming.canvas.animate === 'function') {
      const animation = incoming.canvas.animate([{ opacity: 0 }, { opacity: 1 }], { duration: ms, easing: 'ease-in-out' });
      this.fade = { animation, outgoing };
      animation.onfinish = () => this.completeFade();
    } else {
      hide(outgoing);
    }
    this.front = 1 - this.front;
    this.shown = header;
    this.stats.framesShown++;
    this.options.onShown(header, at);
  }

  /** Ends a running crossfade at once: the incoming layer fully shown, the outgoing one emptied. */
  private completeFade(): void {
    const fade = this.fade;
    if (!fade) return;
    this.fade = undefined;
    fade.animation.onfinish = null;
    fade.animation.cancel();
    hide(fade.outgoing);
  }

  private release(bitmap: ImageBitmap): void {
    bitmap.close();
    this.count(-1);
  }

  private count(delta: number): void {
    this.stats.liveBitmaps += delta;
    if (this.stats.liveBitmaps > this.stats.peakLiveBitmaps) this.stats.peakLiveBitmaps = this.stats.liveBitmaps;
  }
}

function layer(canvas: HTMLCanvasElement): Layer {
  const bitmaps = canvas.getContext('bitmaprenderer');
  return { canvas, bitmaps, plain: bitmaps ? null : canvas.getContext('2d') };
}

/** Puts the bitmap on the layer and consumes it: transferred, or drawn and closed. */
function draw(target: Layer, bitmap: ImageBitmap): void {
  const { canvas } = target;
  if (canvas.width !== bitmap.width) canvas.width = bitmap.width;
  if (canvas.height !== bitmap.height) canvas.height = bitmap.height;
  if (target.bitmaps) {
    target.bitmaps.transferFromImageBitmap(bitmap);
    return;
  }
  target.plain?.drawImage(bitmap, 0, 0);
  bitmap.close();
}

/** Hides a layer and lets go of its pixels (a 4K frame is 33 MB). */
function hide(target: Layer): void {
  target.canvas.style.opacity = '0';
  target.canvas.style.zIndex = '0';
  if (target.bitmaps) target.bitmaps.transferFromImageBitmap(null);
  target.canvas.width = 1;
  target.canvas.height = 1;
}
