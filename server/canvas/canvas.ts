import type { CanvasConfig } from '../config.js';
import { EaselError, isEaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { createPacer } from '../stream/pacer.js';
import type { EncodedImage, Renderer } from '../stream/renderer.js';
import { chooseRendition, renditionKey, type DisplayWants, type ImageFormat, type RenditionSpec } from '../stream/rendition.js';
import type { Source, SourceImage, SourceStatus } from '../stream/source.js';
import { Channel, type Display } from './channel.js';
import { createStuckCloser } from './stuck-close.js';
import { createFrame, type Frame } from './frame.js';

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
}

export type CanvasState = 'starting' | 'streaming' | 'holding' | 'paused' | 'closed';

export type CanvasEvent =
  | { type: 'state'; slug: string; state: CanvasState }
  | { type: 'source'; slug: string; kind: string }
  | { type: 'frame'; slug: string; frame: Frame };

export interface CanvasSnapshot {
  slug: string;
  state: CanvasState;
  fps: number;
  width: number;
  height: number;
  source: { kind: string } & SourceStatus;
  displays: number;
  /** An operator's still holding the screen, and until when (null: until the next command). */
  holding: { until: string | null } | null;
  lastFrame: { seq: number; imageId: string; timestamp: string; source: string } | null;
  counters: { published: number; held: number; rejected: number; skippedSends: number; stalledClosed: number };
}

/**
 * One canvas: source → render-ahead queue → pacer → channel → displays. The producer loop keeps
 * up to `renderAhead` frames rendered; each pacer slot takes one and publishes it. When the
 * queue is empty at a slot the canvas holds: nothing is resent.
 */
export function createCanvas(options: CanvasOptions) {
  const { config, renderer, clock, renderAhead, stallTimeoutMs, stallSlots } = options;
  let source = options.source;
  const log = options.logger.child({ slug: config.slug });
  const channel = new Channel();
  const queue: Frame[] = [];
  /** Aborts the producer of the current source; replaced with the source. */
  let run = new AbortController();
  const listeners = new Set<(event: CanvasEvent) => void>();
  const pending = new Map<string, Promise<void>>(); // on-demand renditions in flight, by seq|key
  const counters = { held: 0, rejected: 0, stalledClosed: 0 };
  let seq = 0;
  /** Bumped when queued frames go stale (a new prompt): renders begun before are dropped. */
  let generation = 0;
  let state: CanvasState = 'starting';
  let wakeProducer: (() => void) | undefined;
  let producer: Promise<void> | undefined;
  /** A still shown by an operator holds the screen until then (Infinity: until the next command). */
  let holdUntil = 0;
  let started = false;
  /** No display watches (a created canvas): slots stop, so the source stops once its buffer is full. */
  let resting = false;

  const emit = (event: CanvasEvent) => {
    for (const listener of listeners) listener(event);
  };
  const setState = (next: CanvasState) => {
    if (next === state) return;
    state = next;
    emit({ type: 'state', slug: config.slug, state });
  };

  const defaultSpec = chooseRendition(config, { mode: 'binary', accept: [] });

  const wantedSpecs = (): RenditionSpec[] => {
    const specs = new Map([[renditionKey(defaultSpec), defaultSpec]]);
    for (const spec of channel.wantedSpecs()) specs.set(renditionKey(spec), spec);
    return [...specs.values()];
  };

  async function produce(from: Source, signal: AbortSignal): Promise<void> {
    let failures = 0;
    while (!signal.aborted) {
      if (queue.length >= renderAhead) {
        await new Promise<void>((resolve) => (wakeProducer = resolve));
        wakeProducer = undefined;
        continue;
      }
      let image;
      try {
        image = await from.next(signal);
      } catch (err) {
        if (signal.aborted) return;
        // A source should wait rather than throw; if one does, back off instead of spinning.
        log.error({ err }, 'Source failed; trying again');
        await new Promise((r) => clock.setTimeout(() => r(undefined), Math.min(30_000, 500 * 2 ** failures++)));
        continue;
      }
      failures = 0;
      const epoch = generation;
      try {
        const renditions = await renderer.render(image, wantedSpecs());
        if (!signal.aborted && epoch === generation) queue.push(createFrame(image, renditions));
      } catch (err) {
        counters.rejected++;
        from.reject(image, isEaselError(err) ? err : new EaselError('EASEL_ERR_IMAGE_UNREADABLE', String(err), { hint: 'Re-export the image' }));
      }
    }
  }

  /** Makes a rendition nobody wanted when the frame was rendered, then delivers it if still current. */
  function renderLate(frame: Frame, display: Display) {
    const id = `${frame.seq}|${display.key}`;
    if (pending.has(id)) return;
    const spec = display.spec;
    const job = renderer
      .render(frame.image, [spec])
      .then((out) => {
        for (const [key, encoded] of out) frame.renditions.set(key, encoded);
        if (channel.latest !== frame) return;
        for (const d of channel.displays) if (d.key === renditionKey(spec)) channel.deliver(d, frame, clock.now());
      })
      .catch((err: unknown) => log.warn({ err }, 'Could not make a rendition for a display'))
      .finally(() => pending.delete(id));
    pending.set(id, job);
  }

  // Two slots to take what is queued, so a display that is merely slow still hears why it goes.
  const stuck = createStuckCloser({ clock, logger: log, graceMs: () => Math.min(2000, 2000 / pacer.fps) });

  function closeStalled(now: number) {
    for (const display of channel.stalled(now, stallTimeoutMs, stallSlots)) {
      counters.stalledClosed++;
      const blockedMs = now - (display.blockedSince ?? now);
      log.warn(
        { display: display.id, address: display.remoteAddress, code: 'EASEL_ERR_DISPLAY_TOO_SLOW', skipped: display.skipped, skippedInARow: display.skippedInARow, blockedMs },
        `Closing a display that took none of its last ${display.skippedInARow} frames (blocked ${(blockedMs / 1000).toFixed(1)} s)`,
      );
      channel.remove(display);
      stuck.close(display);
      options.onDisplayCount?.(channel.displays.size);
    }
  }

  function publish(frame: Frame, now: number) {
    frame.seq = ++seq;
    for (const display of channel.publish(frame, now)) renderLate(frame, display);
    if (state !== 'paused') setState('streaming'); // a frame stepped with next() keeps it paused
    emit({ type: 'frame', slug: config.slug, frame });
    wakeProducer?.();
  }

  const pacer = createPacer({
    fps: config.fps,
    clock,
    onSlot: (slot) => {
      const now = clock.now();
      options.onSlotLate?.(now - slot.time);
      const frame = now >= holdUntil ? queue.shift() : undefined;
      if (frame) {
        publish(frame, now);
      } else {
        counters.held++;
        if (state === 'streaming') setState('holding');
      }
      closeStalled(now);
    },
  });

  function startProducer(from: Source) {
    run = new AbortController();
    const signal = run.signal;
    producer = produce(from, signal);
  }

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
      startProducer(source);
      pacer.start(phaseMs);
    },

    /** Listens to state changes and published frames; returns the unsubscribe function. */
    onEvent(listener: (event: CanvasEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /**
     * Swaps the source. Frames of the old one rendered ahead are dropped; the screen keeps its
     * current frame until the new source's first one is ready, so a switch never goes dark.
     */
    async setSource(next: Source): Promise<void> {
      const old = source;
      source = next;
      run.abort(new Error('Source replaced'));
      generation++;
      queue.length = 0;
      holdUntil = 0;
      wakeProducer?.();
      const oldProducer = producer;
      startProducer(next);
      emit({ type: 'source', slug: config.slug, kind: next.kind });
      log.info({ source: next.kind }, 'Canvas source changed');
      await Promise.allSettled([oldProducer, old.close()]);
    },

    /**
     * Shows an operator's image at the next slot, ahead of the queue, and holds it for `holdMs`
     * (Infinity: until the next command). Rejects with the renderer's error for a bad image.
     */
    async showStill(image: SourceImage, holdMs: number): Promise<void> {
      const renditions = await renderer.render(image, wantedSpecs());
      const frame = createFrame(image, renditions);
      queue.unshift(frame);
      // It is published at the next slot; the hold starts from there.
      holdUntil = 0;
      const stop = this.onEvent((event) => {
        if (event.type === 'frame' && event.frame === frame) {
          holdUntil = holdMs === Infinity ? Infinity : clock.now() + holdMs;
          stop();
        }
      });
      if (state === 'paused') this.next();
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
      if (started && state !== 'paused' && state !== 'closed') pacer.resume();
    },

    /** Shows the next frame now, ends any hold, and starts the pacing grid again from here. */
    next(): boolean {
      holdUntil = 0;
      const frame = queue.shift();
      if (frame) publish(frame, clock.now());
      if (state !== 'paused' && frame) pacer.setFps(pacer.fps); // next slot one period from now
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

    /** Adds a display and gives it the latest frame at once. */
    attach(display: Display) {
      channel.add(display);
      const latest = channel.latest;
      if (latest && channel.deliver(display, latest, clock.now()) === 'missing') renderLate(latest, display);
      options.onDisplayCount?.(channel.displays.size);
    },

    detach(display: Display) {
      if (!channel.displays.has(display)) return;
      channel.remove(display);
      stuck.forget(display);
      options.onDisplayCount?.(channel.displays.size);
    },

    /** A display told us its screen changed: move it to the rendition that fits. */
    updateDisplay(display: Display, wants: DisplayWants) {
      const spec = chooseRendition(config, wants);
      const key = renditionKey(spec);
      if (key === display.key) return;
      display.spec = spec;
      display.key = key;
      display.lastSeq = 0; // let it have the current frame in its new size
      const latest = channel.latest;
      if (latest && channel.deliver(display, latest, clock.now()) === 'missing') renderLate(latest, display);
    },

    /**
     * Drops the frames rendered ahead, for when the source's next images replace them (a new
     * prompt): the screen keeps the current frame until the first new one is ready.
     */
    dropQueued() {
      generation++;
      queue.length = 0;
      wakeProducer?.();
    },

    drained(display: Display) {
      if (stuck.drained(display)) return;
      const latest = channel.latest;
      if (channel.drained(display, clock.now()) === 'missing' && latest) renderLate(latest, display);
    },

    pause() {
      if (state === 'paused' || state === 'closed') return;
      pacer.pause();
      setState('paused');
      log.info('Canvas paused');
    },

    resume() {
      if (state !== 'paused') return;
      holdUntil = 0;
      setState(channel.latest ? 'holding' : 'starting');
      if (!resting) pacer.resume();
      log.info('Canvas resumed');
    },

    snapshot(): CanvasSnapshot {
      const latest = channel.latest;
      return {
        slug: config.slug,
        state,
        fps: pacer.fps,
        holding: holdUntil > clock.now() ? { until: holdUntil === Infinity ? null : new Date(holdUntil).toISOString() } : null,
        width: config.width,
        height: config.height,
        source: { kind: source.kind, ...source.status() },
        displays: channel.displays.size,
        lastFrame: latest ? { seq: latest.seq, imageId: latest.imageId, timestamp: latest.timestamp, source: latest.source } : null,
        counters: { published: channel.published, skippedSends: channel.skippedSends, ...counters },
      };
    },

    /** Stops pacing and the source; displays are closed by the transport. */
    async close() {
      if (state === 'closed') return;
      setState('closed');
      listeners.clear();
      pacer.stop();
      run.abort(new Error(`Canvas "${config.slug}" closed`));
      wakeProducer?.();
      await Promise.allSettled([source.close(), producer, ...pending.values()]);
    },
  };
}

export type Canvas = ReturnType<typeof createCanvas>;
