import { resolveCanvas, type CanvasConfig, type EaselConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { createFolderSource } from '../stream/folder-source.js';
import type { Renderer } from '../stream/renderer.js';
import type { Source } from '../stream/source.js';
import { createCanvas, type Canvas } from './canvas.js';

export interface RegistryOptions {
  config: EaselConfig;
  renderer: Renderer;
  clock: Clock;
  logger: Logger;
}

/** Every canvas of the server by slug: the declared ones from the start, others on first use. */
export function createRegistry(options: RegistryOptions) {
  const { config, renderer, clock, logger } = options;
  const canvases = new Map<string, Canvas>();

  function createSource(canvas: CanvasConfig): Source {
    return createFolderSource({
      ...canvas.source,
      maxFileBytes: config.render.maxFileBytes,
      logger: logger.child({ slug: canvas.slug }),
      clock,
    });
  }

  function add(canvasConfig: CanvasConfig): Canvas {
    const canvas = createCanvas({
      config: canvasConfig,
      source: createSource(canvasConfig),
      renderer,
      clock,
      logger,
      renderAhead: config.render.renderAhead,
      stallTimeoutMs: config.displays.stallTimeoutMs,
    });
    canvases.set(canvasConfig.slug, canvas);
    canvas.start();
    const { source, fps, width, height } = canvasConfig;
    logger.info({ slug: canvasConfig.slug, source, fps, width, height }, 'Canvas started');
    return canvas;
  }

  return {
    /** Starts the canvases declared in config. */
    startDeclared() {
      for (const declared of config.canvases) if (!canvases.has(declared.slug)) add(resolveCanvas(config, declared));
    },

    get(slug: string): Canvas | undefined {
      return canvases.get(slug);
    },

    /** The canvas for a valid slug, created with the defaults when allowed; undefined otherwise. */
    getOrCreate(slug: string): Canvas | undefined {
      const existing = canvases.get(slug);
      if (existing || !config.createCanvasesOnConnect) return existing;
      return add(resolveCanvas(config, { slug }));
    },

    list(): Canvas[] {
      return [...canvases.values()];
    },

    async closeAll(): Promise<void> {
      await Promise.allSettled([...canvases.values()].map((c) => c.close()));
    },
  };
}

export type Registry = ReturnType<typeof createRegistry>;
