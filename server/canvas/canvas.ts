import type { CanvasConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { createPacer } from '../stream/pacer.js';
import type { EncodedImage, Renderer } from '../stream/renderer.js';
import { chooseRendition, renditionKey, type DisplayWants, type ImageFormat, type RenditionSpec } from '../stream/rendition.js';
import type { Source, SourceImage } from '../stream/source.js';
import { createCanvasDisplays } from './canvas-displays.js';
import { createCanvasStatus, describeFrame, type CanvasEvent, type CanvasSnapshot } from './canvas-state.js';
import { Channel, type Display } from './channel.js';
import type { FanOut } from './fan-out.js';
import { createFrame, stampFrame, type Frame } from './frame.js';
import { createHold } from './hold.js';
import { createProducer } from './producer.js';
import { createRenderAhead } from './render-ahead.js';

export type { CanvasEvent, CanvasSnapshot, CanvasState } from './canvas-state.js';

export interface CanvasOptions {
  config: CanvasConfig;
  source: Source;
  renderer: Renderer;
  clock: Clock;
  logger: Logger;
  /** Frames rendered ahead of their slot, so pacing never waits on an encode. */
  renderAhead: number;
  /** A display blocked for longer than this is closed. */
  stallTimeoutMs: number;
  /** A display that could take none of this many frames in a row is closed. */
  stallSlots: number;
  /** Told how late each slot fired against its schedule, ms (for metrics). */
  onSlotLate?: (lateMs: number) => void;
  /** Told how many displays watch after each one comes or goes (the registry starts and reaps canvases by it). */
  onDisplayCount?: (count: number) => void;
  /** How frames reach displays: uWS publish with displays.fanOut = topics; absent, a send loop. */
  fanOut?: FanOut | undefined;
  /**
   * Asked at each slot (cluster mode): false when this node does not hold the canvas's lease
   * now, and the slot holds instead of publishing. Absent: always publish.
   */
  mayPublish?: (() => boolean) | undefined;
  /** Told of each frame this node publishes (cluster mode: the relay sends it to the other nodes). */
  onPublished?: ((frame: Frame) => void) | undefined;
  /** Renditions displays on other nodes want (cluster mode, while this node produces the canvas). */
  remoteSpecs?: (() => RenditionSpec[]) | undefined;
}

/**
 * One canvas: source → producer → render-ahead queue → pacer → channel → displays. Each pacer
 * slot takes one rendered frame and publishes it, unless an operator's still holds the screen;
 * when the queue is empty at a slot the canvas holds: nothing is resent. This module only wires
 * the parts and keeps what is the canvas's own: its source, its frame numbers, and whether its
 * slots run (started, resting while nobody watches, paused by an operator).
 */
export function createCanvas(options: CanvasOptions) {
  const { config, renderer, clock } = options;
  let source = options.source;
  const log = options.logger.child({ slug: config.slug });
  const channel = new Channel(options.fanOut);
  const status = createCanvasStatus(config.slug);
  const queue = createRenderAhead(options.renderAhead);
  const hold = createHold(clock);
  const counters = { held: 0, rejected: 0, relayed: 0 };
  let seq = 0;
  /** No frame is published with a presentAt at or below this (the last any node showed; cluster failover). */
  let presentFloor = 0;
  let started = false;
  /** No display watches (a created canvas): slots stop, so the source stops once its buffer is full. */
  let resting = false;

  const defaultSpec = chooseRendition(config, { mode: 'binary', accept: [] });
  const wantedSpecs = (): RenditionSpec[] => {
    const specs = new Map([[renditionKey(defaultSpec), defaultSpec]]);
    for (const spec of channel.wantedSpecs()) specs.set(renditionKey(spec), spec);
    for (const spec of options.remoteSpecs?.() ?? []) specs.set(renditionKey(spec), spec);
    return [...specs.values()];
  };

  const producer = createProducer({ renderer, queue, specs: wantedSpecs, clock, logger: log, onRejected: () => counters.rejected++ });
  const displays = createCanvasDisplays({
    box: config,
    channel,
    renderer,
    clock,
    logger: log,
    stall: { timeoutMs: options.stallTimeoutMs, slots: options.stallSlots },
    // Two slots to take what is queued, so a display that is merely slow still hears why it goes.
    graceMs: () => Math.min(2000, 2000 / pacer.fps),
    onCount: options.onDisplayCount,
  });

  /** `slotTime`: when its slot fell (a late timer does not shift the screen time), or now for an operator's skip. */
  function publish(frame: Frame, now: number, slotTime: number) {
    stampFrame(frame, ++seq, slotTime, config.sync ? config.leadMs : undefined);
    if (frame.presentAt !== undefined && frame.presentAt <= presentFloor) frame.presentAt = presentFloor + 1;
    presentFloor = Math.max(presentFloor, frame.presentAt ?? 0);
    displays.publish(frame, now);
    hold.shown(frame);
    status.shown(frame);
    options.onPublished?.(frame);
  }

  const pacer = createPacer({
    fps: config.fps,
    clock,
    onSlot: (slot) => {
      const now = clock.now();
      options.onSlotLate?.(now - slot.time);
      const frame = hold.holds(now) || options.mayPublish?.() === false ? undefined : queue.take();
      if (frame) publish(frame, now, slot.time);
      else {
        counters.held++;
        status.missed();
      }
      displays.sweep(now);
    },
  });

  /** Drops the frames rendered ahead (and any still's hold not begun); the screen keeps its frame. */
  const dropQueued = (reason: string) => {
    queue.drop(new Error(reason));
    hold.forgetOwed();
  };

  return {
    slug: config.slug,
    config,
    channel,

    get source(): Source {
      return source;
    },

    get started(): boolean {
      return started;
    },

    /** Starts producing and pacing; the first slot falls `phaseMs` from now. */
    start(phaseMs = 0) {
      if (started) return;
      started = true;
      if (!producer.running) void producer.switchTo(source, new Error('Source replaced'));
      // Paused before it started (a canvas taken over paused): resume() starts the slots.
      if (status.live) pacer.start(phaseMs);
    },

    /** Listens to state changes and published frames; returns the unsubscribe function. */
    onEvent(listener: (event: CanvasEvent) => void): () => void {
      return status.listen(listener);
    },

    /**
     * Swaps the source. Frames of the old one rendered ahead are dropped; the screen keeps its
     * current frame until the new source's first one is ready, so a switch never goes dark.
     */
    async setSource(next: Source): Promise<void> {
      const old = source;
      source = next;
      dropQueued('Source replaced');
      hold.release();
      const oldProducer = producer.switchTo(next, new Error('Source replaced'));
      status.sourceChanged(next.kind);
      log.info({ source: next.kind }, 'Canvas source changed');
      await Promise.allSettled([oldProducer, old.close()]);
    },

    /**
     * Shows an operator's image at the next slot, ahead of the queue, and holds it for `holdMs`
     * (Infinity: until the next command). Rejects with the renderer's error for a bad image.
     */
    async showStill(image: SourceImage, holdMs: number): Promise<void> {
      const frame = createFrame(image, await renderer.render(image, wantedSpecs()));
      queue.pushFront(frame);
      hold.after(frame, holdMs);
      if (status.state === 'paused') this.next();
    },

    /**
     * Stops the slots while nobody watches, without a state change an operator would see: the
     * render-ahead queue and the source's buffer fill up and then nothing more is made.
     */
    rest() {
      if (resting) return;
      resting = true;
      pacer.pause();
    },

    /** A display is back: slots go on (unless an operator paused the canvas). */
    wake() {
      if (!resting) return;
      resting = false;
      if (started && status.live) pacer.resume();
    },

    /** Shows the next frame now, ends any hold, and starts the pacing grid again from here. */
    next(): boolean {
      if (options.mayPublish?.() === false) return false;
      hold.release();
      const frame = queue.take();
      const now = clock.now();
      if (frame) publish(frame, now, now);
      if (status.state !== 'paused' && frame) pacer.setFps(pacer.fps); // next slot one period from now
      return frame !== undefined;
    },

    /** The latest frame in one format at full canvas size, encoded on demand; undefined before the first. */
    async latestImage(format: ImageFormat): Promise<{ encoded: EncodedImage; frame: Frame } | undefined> {
      const frame = channel.latest;
      if (!frame) return undefined;
      const spec = { ...defaultSpec, format };
      const key = renditionKey(spec);
      const encoded = frame.renditions.get(key) ?? (await renderer.render(frame.image, [spec])).get(key)!;
      return { encoded, frame };
    },

    /**
     * Cluster mode, on a node that does not produce the canvas: shows a frame its owner published,
     * with the owner's seq and presentAt, so screens on every node show it at the same instant.
     * False (and nothing shown) when it is not newer than what this canvas last showed: seq never
     * goes back on a screen. This canvas's own numbering continues from it, so if this node takes
     * the canvas over it carries on upward.
     */
    receive(frame: Frame): boolean {
      if (frame.seq <= seq || frame.seq <= (channel.latest?.seq ?? 0)) return false;
      seq = frame.seq;
      presentFloor = Math.max(presentFloor, frame.presentAt ?? 0);
      const now = clock.now();
      displays.publish(frame, now);
      status.shown(frame);
      counters.relayed++;
      displays.sweep(now);
      return true;
    },

    /**
     * Cluster mode: the next frame this canvas publishes is numbered above `last` (the last any
     * node sent), and is presented after `presentAt` (the last one's instant), if given.
     */
    raiseSeq(last: number, presentAt?: number): void {
      seq = Math.max(seq, last);
      presentFloor = Math.max(presentFloor, presentAt ?? 0);
    },

    /** Adds a display and gives it the latest frame at once. */
    attach: (display: Display) => displays.attach(display),
    detach: (display: Display) => displays.detach(display),
    /** A display told us its screen changed: move it to the rendition that fits. */
    updateDisplay: (display: Display, wants: DisplayWants) => displays.update(display, wants),
    /** Its send buffer emptied: the newest frame it missed goes out (or, stuck, its close). */
    drained: (display: Display) => displays.drained(display),

    /**
     * Drops the frames rendered ahead, for when the source's next images replace them (a new
     * prompt): the screen keeps the current frame until the first new one is ready.
     */
    dropQueued() {
      dropQueued('Queued frames dropped');
    },

    pause() {
      if (!status.pause()) return;
      pacer.pause();
      log.info('Canvas paused');
    },

    resume() {
      if (status.state !== 'paused') return;
      hold.release();
      status.resume(channel.latest !== undefined);
      if (!resting) pacer.resume();
      log.info('Canvas resumed');
    },

    snapshot(): CanvasSnapshot {
      return {
        slug: config.slug,
        state: status.state,
        fps: pacer.fps,
        holding: hold.describe(clock.now()),
        width: config.width,
        height: config.height,
        source: { kind: source.kind, ...source.status() },
        displays: channel.displays.size,
        lastFrame: describeFrame(channel.latest),
        counters: { published: channel.published, skippedSends: channel.skippedSends, ...counters, stalledClosed: displays.stalledClosed },
      };
    },

    /** Stops pacing and the source; displays are closed by the transport. */
    async close() {
      if (!status.close()) return;
      pacer.stop();
      const stopped = producer.stop(new Error(`Canvas "${config.slug}" closed`));
      await Promise.allSettled([source.close(), stopped, displays.settled()]);
    },
  };
}

export type Canvas = ReturnType<typeof createCanvas>;
