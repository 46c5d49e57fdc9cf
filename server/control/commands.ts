import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { Canvas } from '../canvas/canvas.js';
import type { Registry } from '../canvas/registry.js';
import { parseSlug } from '../canvas/slug.js';
import type { EaselConfig } from '../config.js';
import { EaselError } from '../errors.js';
import type { InferenceClient } from '../inference/client.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../stream/clock.js';
import type { CanvasCommands, CommandOrigin, PromptCommand, SourceCommand } from './command-types.js';
import { checkBytes, checkHeader, checkImageFile } from '../stream/image-limits.js';
import type { EventBus } from './events.js';
import type { JobTracker } from './jobs.js';

/** `DELETE /api/canvases/:slug`: only the HTTP API removes canvases, so it is not a CanvasCommand. */
export interface CanvasRemoval {
  removeCanvas(slug: string, origin: CommandOrigin): Promise<void>;
}

export interface CommandsOptions {
  registry: Registry;
  config: EaselConfig;
  events: EventBus;
  jobs: JobTracker;
  inference: InferenceClient | undefined;
  /** Default: the system clock. */
  clock?: Clock;
  logger: Logger;
}

const invalid = (field: string, message: string, hint: string) =>
  new EaselError('EASEL_ERR_REQUEST_INVALID', `${field}: ${message}`, { hint, details: { field } });

/** The commands playlists drive canvases with; the playlist commands are added on top (playlist-commands.ts). */
export type SourceCommands = Omit<CanvasCommands, 'startPlaylist' | 'stopPlaylist'> & CanvasRemoval;

/**
 * The canvas commands behind HTTP, OSC and playlists: each is checked, carried out, logged in
 * one line naming where it came from, and announced on the event bus.
 */
export function createCommands(options: CommandsOptions): SourceCommands {
  const { registry, config, events, jobs, inference, logger: log } = options;
  const imageLimits = config.render;
  const clock = options.clock ?? systemClock;

  /** Commands act on canvases that exist: a typo gets "did you mean", never a new canvas. */
  function canvasFor(slug: string): Canvas {
    const check = parseSlug(slug);
    if (!check.ok) throw new EaselError('EASEL_ERR_SLUG_INVALID', check.reason, { hint: 'Use lowercase letters, digits and dashes, e.g. left-canva' });
    return registry.existing(slug);
  }

  const announce = announcer(log, events);

  function needInference(): InferenceClient {
    if (inference) return inference;
    throw new EaselError('EASEL_ERR_INFERENCE_NOT_CONFIGURED', 'No inference service is configured, so prompts cannot be generated', {
      hint: 'Start Easel with --inference host:port (EASEL_INFERENCE_ENDPOINTS); `npm run inference:dev` runs a stand-in without a GPU',
    });
  }

  let info: { at: number; steps: [number, number]; maxBatch: number } | undefined;
  /** The service's limits, asked at most once a minute; generous defaults when it cannot answer. */
  async function limits(client: InferenceClient) {
    if (info && clock.now() - info.at < 60_000) return info;
    try {
      const i = await client.getInfo();
      info = { at: clock.now(), steps: [i.minInferenceSteps || 1, i.maxInferenceSteps || 50], maxBatch: i.maxBatch || 1 };
    } catch {
      info = { at: clock.now() - 50_000, steps: [1, 50], maxBatch: 1 };
    }
    return info;
  }

  async function checkPrompt(command: PromptCommand, client: InferenceClient): Promise<void> {
    const { prompt, negativePrompt, seed, steps, drift, count } = command as Record<keyof PromptCommand, unknown>;
    if (typeof prompt !== 'string' || prompt.trim() === '') throw invalid('prompt', 'is required: the text to generate from', 'Send {"prompt": "a foggy harbour"}');
    if (prompt.length > 2000) throw invalid('prompt', `is ${prompt.length} characters, the most is 2000`, 'Shorten the prompt');
    if (negativePrompt !== undefined && (typeof negativePrompt !== 'string' || negativePrompt.length > 2000)) throw invalid('negativePrompt', 'must be text of at most 2000 characters', 'Shorten it or leave it out');
    if (seed !== undefined && !(Number.isSafeInteger(seed) && (seed as number) >= 0)) throw invalid('seed', `value ${JSON.stringify(seed)} is not a whole number from 0 to 2^53`, 'Leave it out for random seeds');
    if (drift !== undefined && !(typeof drift === 'number' && drift >= 0 && drift <= 1)) throw invalid('drift', `value ${JSON.stringify(drift)} is not a strength from 0 to 1`, 'Use 0.2-0.5 for a slow drift, or leave it out');
    if (count !== undefined && !(Number.isInteger(count) && (count as number) >= 1 && (count as number) <= 100)) throw invalid('count', `value ${JSON.stringify(count)} is not a whole number from 1 to 100`, 'Leave it out for 4');
    if (steps !== undefined) {
      const [min, max] = (await limits(client)).steps;
      if (!(Number.isInteger(steps) && (steps as number) >= min && (steps as number) <= max)) {
        throw invalid('steps', `value ${JSON.stringify(steps)} is not allowed, the inference service takes ${min} to ${max}`, `Use ${min}-${max} (SDXL-Turbo: 1-4), or leave it out`);
      }
    }
  }

  async function checkPath(field: string, p: unknown, kind: 'folder' | 'file'): Promise<string> {
    if (typeof p !== 'string' || p === '') throw invalid(field, `must be the path of a ${kind} on the server`, `Send {"${field.split('.').pop()}": "/srv/art"}`);
    const resolved = path.resolve(p);
    const info = await stat(resolved).catch(() => undefined);
    if (!info || (kind === 'folder' ? !info.isDirectory() : !info.isFile())) {
      throw invalid(field, `${kind} "${resolved}" does not exist`, `Check the path; it is read on the Easel server, not on your machine`);
    }
    return resolved;
  }

  return {
    list: () => registry.list().map((c) => c.snapshot()),
    get: (slug) => canvasFor(slug).snapshot(),

    async setPrompt(slug, command, origin) {
      const client = needInference();
      const canvas = canvasFor(slug);
      await checkPrompt(command, client);
      const { prompt, negativePrompt, seed, steps, drift } = command;
      const before = registry.prompter(slug);
      const previousPrompt = before?.status().details?.prompt as string | undefined;
      const previousSource = canvas.source.kind;
      const revert = async () => {
        if (previousPrompt !== undefined && registry.prompter(slug)) registry.setPrompt(slug, previousPrompt);
        else if (previousSource !== 'inference') await registry.setSource(slug, registry.initialSource(slug));
      };
      const job = jobs.create(slug, prompt, command.count ?? 4, revert);
      const promptOptions = {
        ...(negativePrompt ? { negativePrompt } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(steps !== undefined ? { numInferenceSteps: steps } : {}),
        ...(drift ? { drift: { strength: drift } } : {}),
        width: config.inference.width,
        height: config.inference.height,
      };
      if (before) registry.setPrompt(slug, prompt, { ...promptOptions, job: job.id });
      else {
        const d = config.canvasDefaults.source;
        await registry.setSource(slug, { type: 'inference', prompt, negativePrompt: negativePrompt ?? d.negativePrompt, steps: steps ?? d.steps, ...(seed !== undefined ? { seed } : {}), drift: drift ?? d.drift, fallback: d.fallback }, job.id);
      }
      announce(slug, 'prompt', origin, { prompt, job: job.id });
      return job;
    },

    async showStill(slug, image, holdMs, origin) {
      const canvas = canvasFor(slug);
      checkBytes(image.length, imageLimits, 'The image');
      await checkHeader(image, imageLimits, 'The body');
      const id = `u-${Math.round(clock.now()).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      await canvas.showStill({ id, data: image, source: 'upload', createdAt: clock.now() }, holdMs);
      announce(slug, 'image', origin, { imageId: id, holdMs: holdMs === Infinity ? null : holdMs });
      return { imageId: id };
    },

    async setSource(slug, source, origin) {
      const canvas = canvasFor(slug);
      const type = (source as { type?: unknown }).type;
      if (type === 'playlist') throw playlistsUnavailable();
      if (type === 'folder') {
        const s = source as Extract<SourceCommand, { type: 'folder' }>;
        const order = s.order ?? 'name';
        if (order !== 'name' && order !== 'shuffle') throw invalid('order', `value ${JSON.stringify(order)} is not one of name, shuffle`, 'Leave it out for name order');
        await registry.setSource(slug, { type: 'folder', path: await checkPath('path', s.path, 'folder'), order });
      } else if (type === 'still') {
        const file = await checkPath('path', (source as { path?: unknown }).path, 'file');
        // Refused here, before anything changes or is read: a 1 GB still never reaches the canvas.
        await checkImageFile(file, imageLimits);
        await registry.setSource(slug, { type: 'still', path: file });
      } else if (type === 'inference') {
        needInference();
        const s = source as Extract<SourceCommand, { type: 'inference' }>;
        const d = config.canvasDefaults.source;
        const prompt = s.prompt ?? d.prompt;
        await checkPrompt({ ...s, prompt }, needInference());
        await registry.setSource(slug, { type: 'inference', prompt, negativePrompt: s.negativePrompt ?? d.negativePrompt, steps: s.steps ?? d.steps, ...(s.seed !== undefined ? { seed: s.seed } : {}), drift: s.drift ?? d.drift, fallback: d.fallback });
      } else {
        throw invalid('type', `value ${JSON.stringify(type)} is not one of folder, inference, still, playlist`, 'Send {"type": "folder", "path": "/srv/art"}');
      }
      announce(slug, 'source', origin, { type });
      events.emit({ type: 'canvas', slug, source: canvas.source.kind });
    },

    pause(slug, origin) {
      canvasFor(slug).pause();
      announce(slug, 'pause', origin);
    },
    resume(slug, origin) {
      canvasFor(slug).resume();
      announce(slug, 'resume', origin);
    },
    next(slug, origin) {
      const shown = canvasFor(slug).next();
      announce(slug, 'next', origin, { shown });
    },

    async removeCanvas(slug, origin) {
      canvasFor(slug);
      if (registry.isDeclared(slug)) {
        throw new EaselError('EASEL_ERR_CANVAS_DECLARED', `Canvas "${slug}" is declared in the config and is not removed`, {
          hint: 'Pause it instead, or take it out of canvases in the config and restart; only canvases displays created can be removed',
          details: { slug },
        });
      }
      announce(slug, 'remove', origin);
      await registry.remove(slug);
    },

    cancelJob(id, origin) {
      const job = jobs.get(id);
      void jobs.cancel(id).catch((err: unknown) => log.warn({ err, job: id }, 'Could not put the canvas back after cancelling a job'));
      announce(job.slug, 'cancel-job', origin, { job: id });
      return jobs.get(id);
    },
    job: (id) => jobs.get(id),
  };
}

/** Logs a command in one line naming where it came from, and tells the event bus. */
export function announcer(log: Logger, events: EventBus) {
  return (slug: string, command: string, origin: CommandOrigin, detail?: Record<string, unknown>) => {
    log.info({ slug, command, via: origin.via, who: origin.who, ...detail }, `Command ${command}`);
    events.emit({ type: 'command', slug, command, origin, ...(detail ? { detail } : {}) });
  };
}

/** A `playlist` source asked of commands that have no playlists on top. */
export const playlistsUnavailable = () => new EaselError('EASEL_ERR_NOT_FOUND', 'Playlists are not available on this server', { hint: 'Check the playlists.dir setting' });
