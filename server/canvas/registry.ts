import type { ArchiveStore } from '../archive/archive-entry.js';
import { type ArchiveSelection, describeSelection, takeSelection } from '../archive/archive-selection.js';
import { createArchiveSource } from '../archive/archive-source.js';
import { resolveCanvas, type CanvasConfig, type EaselConfig, type SourceConfig } from '../config.js';
import { EaselError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import type { InferenceClient } from '../inference/client.js';
import { createFallbackSource } from '../stream/fallback-source.js';
import { createFolderSource } from '../stream/folder-source.js';
import { createInferenceSource, type InferenceSource, type PromptOptions } from '../stream/inference-source.js';
import type { Renderer } from '../stream/renderer.js';
import type { Source } from '../stream/source.js';
import { createStillSource } from '../stream/still-source.js';
import type { RenditionSpec } from '../stream/rendition.js';
import type { FanOut } from './fan-out.js';
import type { Frame } from './frame.js';
import { createCanvas, type Canvas, type CanvasEvent } from './canvas.js';
import { nearestSlug } from './suggest.js';

export interface RegistryOptions {
  config: EaselConfig;
  renderer: Renderer;
  clock: Clock;
  logger: Logger;
  /** Shared by every inference canvas; absent when no endpoint is configured. */
  inference?: InferenceClient | undefined;
  /** Told how late each canvas's slots fire, ms. */
  onSlotLate?: (slug: string, lateMs: number) => void;
  /** Told of every canvas removed (idle, or by an operator), after it is closed. */
  onRemoved?: (slug: string, reason: 'idle' | 'operator') => void;
  /** How frames reach displays: uWS topics in the server; absent, sends in JavaScript. */
  fanOut?: FanOut | undefined;
  /** Cluster mode: whether this node may publish a declared canvas now (it holds the lease). */
  mayPublish?: ((slug: string) => boolean) | undefined;
  /** Cluster mode: told of each frame a declared canvas publishes here (the relay sends it on). */
  onPublished?: ((slug: string, frame: Frame) => void) | undefined;
  /** Cluster mode: renditions displays on other nodes want of a declared canvas. */
  remoteSpecs?: ((slug: string) => RenditionSpec[]) | undefined;
  /** The archive frames are played again from (an `archive` source); absent when archive.dir is "". */
  archive?: Pick<ArchiveStore, 'select' | 'imagePath'> | undefined;
}

const PHASES = 8;

/**
 * What happens to the canvases, for whoever needs it (jobs, the event feed, playlists, metrics):
 * each canvas's own events, its removal, and a prompt its generator was refused for good.
 */
export type RegistryEvent =
  | CanvasEvent
  | { type: 'removed'; slug: string; reason: 'idle' | 'operator' }
  | { type: 'created'; slug: string }
  | { type: 'refused'; slug: string; job: string | undefined; reason: string };

/** What a canvas can be switched to at run time: a source from config, one still file, or archived frames. */
export type RuntimeSource =
  | SourceConfig
  | { type: 'still'; path: string }
  | { type: 'archive'; selection: ArchiveSelection; order: 'name' | 'shuffle' };

/** What a generating source's images carry besides their prompt. */
export type SourceTags = Pick<PromptOptions, 'job' | 'playlist'>;

/**
 * Every canvas of the server by slug: the declared ones from the start, others created by a
 * display connecting. A created canvas starts with its first display, so a stranger's slug
 * costs nothing until someone watches it, rests (no slots, so no more renders or generation
 * once its buffers are full) while no display watches, and is removed
 * `limits.createdCanvasIdleSeconds` after its last display leaves.
 */
export function createRegistry(options: RegistryOptions) {
  const { config, renderer, clock, logger, inference } = options;
  const canvases = new Map<string, Canvas>();
  const prompters = new Map<string, InferenceSource>();
  /** Idle timers of created canvases with no display, by slug. */
  const reapers = new Map<string, unknown>();
  let closing = false;
  const created = new Set<string>();
  // In a cluster every canvas is produced by one node under a lease, which needs it declared on
  // every node: a canvas one node made up for its display would be produced there alone.
  const createsOnConnect = config.createCanvasesOnConnect && !config.cluster.redisUrl;
  const idleMs = config.limits.createdCanvasIdleSeconds * 1000;
  const phaseOf = (fps: number) => (((canvases.size - 1) % PHASES) * (1000 / fps)) / PHASES;
  const listeners = new Set<(event: RegistryEvent) => void>();

  const emit = (event: RegistryEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        // A listener's bug must not stop a canvas's producer or pacer, which emit these.
        logger.error({ err, slug: event.slug, event: event.type }, 'A canvas event listener failed');
      }
    }
  };

  /** `tags`: the job (and playlist step) a new generating source starts for (its frames and a refusal carry them). */
  function createSource(canvas: CanvasConfig, tags: SourceTags = {}): Source {
    prompters.delete(canvas.slug);
    const log = logger.child({ slug: canvas.slug });
    const folder = (dir: string, order: 'name' | 'shuffle') =>
      createFolderSource({ path: dir, order, maxFileBytes: config.render.maxFileBytes, logger: log, clock });
    const s = canvas.source;
    if (s.type === 'folder') return folder(s.path, s.order);
    if (!inference) throw new TypeError(`Expected an inference client for canvas "${canvas.slug}" but none is configured`);
    const generated = createInferenceSource({
      client: inference,
      logger: log,
      prompt: s.prompt,
      promptOptions: {
        ...(s.negativePrompt ? { negativePrompt: s.negativePrompt } : {}),
        ...(s.steps > 0 ? { numInferenceSteps: s.steps } : {}),
        ...(s.seed !== undefined ? { seed: s.seed } : {}),
        ...(s.drift > 0 ? { drift: { strength: s.drift } } : {}),
        width: config.inference.width,
        height: config.inference.height,
        ...(tags.job !== undefined && { job: tags.job }),
        ...(tags.playlist && { playlist: tags.playlist }),
      },
      fps: canvas.fps,
      bufferSeconds: config.inference.bufferSeconds,
      ...(config.inference.stallMs > 0 ? { stallMs: config.inference.stallMs } : {}),
      maxBatch: config.inference.maxBatch,
      clock,
    });
    prompters.set(canvas.slug, generated);
    generated.onRefused(({ job: refused, reason }) => emit({ type: 'refused', slug: canvas.slug, job: refused, reason }));
    if (s.fallback === '') return generated;
    return createFallbackSource({ primary: generated, fallback: folder(s.fallback, 'shuffle'), clock, logger: log });
  }

  function sourceOf(canvas: CanvasConfig, source: RuntimeSource, tags?: SourceTags): Source {
    if (source.type === 'archive') {
      // Taken now, before the canvas changes: an empty selection or no archive is the command's error.
      const entries = takeSelection(options.archive, source.selection);
      prompters.delete(canvas.slug);
      return createArchiveSource({
        entries,
        imagePath: (entry) => options.archive!.imagePath(entry),
        order: source.order,
        maxFileBytes: config.render.maxFileBytes,
        label: describeSelection(source.selection),
        logger: logger.child({ slug: canvas.slug }),
        clock,
      });
    }
    if (source.type !== 'still') return createSource({ ...canvas, source }, tags);
    prompters.delete(canvas.slug);
    return createStillSource({
      image: { path: source.path },
      maxFileBytes: config.render.maxFileBytes,
      logger: logger.child({ slug: canvas.slug }),
      clock,
    });
  }

  function disarm(slug: string) {
    if (reapers.has(slug)) clock.clearTimeout(reapers.get(slug));
    reapers.delete(slug);
  }

  /** Displays came or went on a created canvas: start it with the first, reap it after the last. */
  function displaysChanged(canvas: Canvas, count: number) {
    const slug = canvas.slug;
    // Closing: displays leave because the server stops; a reaper armed now would hold the process open.
    if (closing || canvases.get(slug) !== canvas || !created.has(slug)) return;
    if (count > 0) {
      disarm(slug);
      if (!canvas.started) {
        canvas.start(phaseOf(canvas.config.fps));
        logger.info({ slug }, 'Canvas started: its first display is watching');
      }
      canvas.wake();
      return;
    }
    canvas.rest();
    if (reapers.has(slug)) return;
    reapers.set(
      slug,
      clock.setTimeout(() => {
        reapers.delete(slug);
        if (canvas.channel.displays.size === 0) void remove(slug, 'idle');
      }, idleMs),
    );
  }

  async function remove(slug: string, reason: 'idle' | 'operator'): Promise<void> {
    const canvas = canvases.get(slug);
    if (!canvas) return;
    disarm(slug);
    canvases.delete(slug);
    created.delete(slug);
    prompters.delete(slug);
    for (const display of [...canvas.channel.displays]) {
      canvas.detach(display);
      display.socket.end(1001, 'Canvas removed');
    }
    await canvas.close();
    logger.info(
      { slug, reason },
      reason === 'idle' ? `Canvas removed: no display for ${config.limits.createdCanvasIdleSeconds} s` : 'Canvas removed by an operator',
    );
    options.onRemoved?.(slug, reason);
    emit({ type: 'removed', slug, reason });
  }

  function notFound(slug: string): EaselError {
    const near = nearestSlug(slug, canvases.keys());
    return new EaselError('EASEL_ERR_NOT_FOUND', `No canvas "${slug}"${near ? `: did you mean "${near}"?` : ''}`, {
      hint: near
        ? `Use "${near}", or GET /api/canvases to list the canvases`
        : 'GET /api/canvases lists the canvases; declare new ones under canvases in the config',
      details: { slug, ...(near ? { didYouMean: near } : {}) },
    });
  }

  /** `initial`: a source restored from before a restart, used instead of the config's. */
  function add(
    canvasConfig: CanvasConfig,
    how: { initial?: RuntimeSource | undefined; startNow?: boolean; declared?: boolean } = {},
  ): Canvas {
    const { initial, startNow = true } = how;
    const canvas: Canvas = createCanvas({
      config: canvasConfig,
      source: initial ? sourceOf(canvasConfig, initial) : createSource(canvasConfig),
      renderer,
      clock,
      logger,
      renderAhead: config.render.renderAhead,
      stallTimeoutMs: config.displays.stallTimeoutMs,
      stallSlots: config.displays.stallSlots,
      fanOut: options.fanOut,
      ...(options.onSlotLate ? { onSlotLate: (ms: number) => options.onSlotLate!(canvasConfig.slug, ms) } : {}),
      onDisplayCount: (count) => displaysChanged(canvas, count),
      ...(options.mayPublish && how.declared ? { mayPublish: () => options.mayPublish!(canvasConfig.slug) } : {}),
      ...(options.onPublished && how.declared ? { onPublished: (frame: Frame) => options.onPublished!(canvasConfig.slug, frame) } : {}),
      ...(options.remoteSpecs && how.declared ? { remoteSpecs: () => options.remoteSpecs!(canvasConfig.slug) } : {}),
    });
    canvases.set(canvasConfig.slug, canvas);
    canvas.onEvent(emit);
    // Canvases' slots are spread over the period, so their fan-outs never pile into one
    // event-loop turn (and a display of the last canvas does not wait for all the others).
    if (startNow) canvas.start(phaseOf(canvasConfig.fps));
    const { source, fps, width, height } = canvasConfig;
    logger.info(
      { slug: canvasConfig.slug, source: initial ?? source, fps, width, height },
      startNow
        ? 'Canvas started'
        : how.declared
          ? 'Canvas declared; it starts when this node holds its lease'
          : 'Canvas created for a display; it starts when the display is in',
    );
    return canvas;
  }

  return {
    /**
     * Starts the canvases declared in config; `restored` names a source that replaces a canvas's
     * own. `startNow: false` (cluster mode) only creates them, for displays to join: `produce`
     * starts each once this node holds its lease.
     */
    startDeclared(restored?: (slug: string) => RuntimeSource | undefined, how: { startNow?: boolean } = {}) {
      for (const declared of config.canvases)
        if (!canvases.has(declared.slug))
          add(resolveCanvas(config, declared), { initial: restored?.(declared.slug), startNow: how.startNow ?? true, declared: true });
    },

    /**
     * Cluster mode: this node produces a declared canvas (it holds the lease), or stops producing
     * it. `startAt`: a canvas handed over starts its slots then, on its last producer's cadence.
     */
    produce(slug: string, producing: boolean, startAt?: number) {
      const canvas = canvases.get(slug);
      if (!canvas || created.has(slug)) return;
      if (!producing) return canvas.rest();
      if (!canvas.started) canvas.start(startAt !== undefined ? Math.max(0, startAt - clock.now()) : phaseOf(canvas.config.fps));
      canvas.wake();
    },

    /** Listens to every canvas's events, removals and refusals; returns the unsubscribe function. */
    onEvent(listener: (event: RegistryEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    /** Calls back on each frame `slug` shows; a canvas that does not exist is never created for it. */
    onFrame(slug: string, listener: () => void): () => void {
      return (
        canvases.get(slug)?.onEvent((event) => {
          if (event.type === 'frame') listener();
        }) ?? (() => undefined)
      );
    },

    /** The inference source of a canvas; undefined for other sources. */
    prompter(slug: string): InferenceSource | undefined {
      return prompters.get(slug);
    },

    /**
     * Generates for a new prompt: cancels the call in flight and drops the frames of the old
     * prompt rendered ahead, so the new one shows as soon as its first image is ready.
     * False when the canvas does not generate.
     */
    setPrompt(slug: string, prompt: string, options?: PromptOptions): boolean {
      const source = prompters.get(slug);
      const canvas = canvases.get(slug);
      if (!source || !canvas) return false;
      source.setPrompt(prompt, options);
      canvas.dropQueued();
      return true;
    },

    get(slug: string): Canvas | undefined {
      return canvases.get(slug);
    },

    /** The canvas, or EASEL_ERR_NOT_FOUND naming the nearest existing slug: commands never create one. */
    existing(slug: string): Canvas {
      const canvas = canvases.get(slug);
      if (!canvas) throw notFound(slug);
      return canvas;
    },

    notFound,

    /** Declared in config (never reaped; DELETE refuses it) rather than created by a display. */
    isDeclared(slug: string): boolean {
      return canvases.has(slug) && !created.has(slug);
    },

    /**
     * For a display connecting: the canvas, created with the defaults when allowed (it starts
     * when the display is attached, and is reaped once no display is left); undefined otherwise.
     */
    getOrCreate(slug: string): Canvas | undefined {
      const existing = canvases.get(slug);
      if (existing || !createsOnConnect) return existing;
      if (canvases.size >= config.limits.maxCanvases) {
        throw new EaselError('EASEL_ERR_LIMIT_REACHED', `The server already runs ${canvases.size} canvases, its limit`, {
          hint: 'Use one of the running canvases, or raise limits.maxCanvases',
          details: { limit: 'maxCanvases' },
        });
      }
      created.add(slug);
      const canvas = add(resolveCanvas(config, { slug }), { startNow: false });
      // Armed now too: an upgrade that never opens leaves a canvas no display will ever leave.
      displaysChanged(canvas, 0);
      emit({ type: 'created', slug });
      return canvas;
    },

    /** Closes a canvas and forgets it; its displays are closed with 1001. */
    remove: (slug: string) => remove(slug, 'operator'),

    /**
     * Replaces a canvas's source: a folder, generation (with its fallback) or a still file.
     * The screen keeps its frame until the new source's first one is ready. `tags`: the job
     * (and playlist step) a generating source starts for.
     */
    async setSource(slug: string, source: RuntimeSource, tags?: SourceTags): Promise<void> {
      const canvas = canvases.get(slug);
      if (!canvas) throw new TypeError(`Expected a canvas "${slug}" but there is none`);
      await canvas.setSource(sourceOf(canvas.config, source, tags));
    },

    /** The source a canvas started with, from config: where a cancelled prompt goes back to. */
    initialSource(slug: string): SourceConfig {
      const declared = config.canvases.find((c) => c.slug === slug) ?? { slug };
      return resolveCanvas(config, declared).source;
    },

    list(): Canvas[] {
      return [...canvases.values()];
    },

    async closeAll(): Promise<void> {
      closing = true;
      for (const slug of [...reapers.keys()]) disarm(slug);
      await Promise.allSettled([...canvases.values()].map((c) => c.close()));
    },
  };
}

export type Registry = ReturnType<typeof createRegistry>;
