import { stat } from 'node:fs/promises';
import path from 'node:path';
import { selectionOf } from '../archive/archive-selection.js';
import type { Canvas } from '../canvas/canvas.js';
import type { Registry } from '../canvas/registry.js';
import { parseSlug } from '../canvas/slug.js';
import type { EaselConfig } from '../config.js';
import { EaselError } from '../errors.js';
import type { InferenceClient } from '../inference/client.js';
import type { Logger } from '../logger.js';
import { systemClock, type Clock } from '../stream/clock.js';
import type { CommandOrigin, LocalCanvasCommands } from './command-types.js';
import { parseRequest } from '../input/problems.js';
import { promptCommand, sourceCommand, type PromptCommand } from '../input/shapes.js';
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
export type SourceCommands = Omit<LocalCanvasCommands, 'startPlaylist' | 'stopPlaylist'> & CanvasRemoval;

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
    if (!check.ok)
      throw new EaselError('EASEL_ERR_SLUG_INVALID', check.reason, { hint: 'Use lowercase letters, digits and dashes, e.g. left-canva' });
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

  /**
   * The prompt's shape by the shared rules, then its steps by the service's own range: 0 (the
   * service default) always passes.
   */
  async function checkPrompt(command: PromptCommand, client: InferenceClient): Promise<PromptCommand> {
    const checked = parseRequest(promptCommand, command);
    const { steps } = checked;
    if (steps) {
      const [min, max] = (await limits(client)).steps;
      if (steps < min || steps > max) {
        const hint = `Use ${min}-${max} (SDXL-Turbo: 1-4), 0 for the service default, or leave it out`;
        throw invalid('steps', `value ${steps} is not allowed, the inference service takes ${min} to ${max}`, hint);
      }
    }
    return checked;
  }

  async function checkPath(field: string, p: string, kind: 'folder' | 'file'): Promise<string> {
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
      const checked = await checkPrompt(command, client);
      const { prompt, negativePrompt, seed, steps, drift } = checked;
      const before = registry.prompter(slug);
      const previousPrompt = before?.status().details?.prompt as string | undefined;
      const previousSource = canvas.source.kind;
      const revert = async () => {
        if (previousPrompt !== undefined && registry.prompter(slug)) registry.setPrompt(slug, previousPrompt);
        else if (previousSource !== 'inference') await registry.setSource(slug, registry.initialSource(slug));
      };
      const job = jobs.create(slug, prompt, checked.count ?? 4, revert);
      // A playlist's prompt step: its images carry the playlist and step into the archive.
      const playlist = origin.via === 'playlist' && origin.who && origin.step ? { name: origin.who, step: origin.step } : undefined;
      const promptOptions = {
        ...(negativePrompt ? { negativePrompt } : {}),
        ...(seed !== undefined ? { seed } : {}),
        ...(steps ? { numInferenceSteps: steps } : {}),
        ...(drift ? { drift: { strength: drift } } : {}),
        width: config.inference.width,
        height: config.inference.height,
      };
      if (before) registry.setPrompt(slug, prompt, { ...promptOptions, job: job.id, ...(playlist && { playlist }) });
      else {
        const d = config.canvasDefaults.source;
        await registry.setSource(
          slug,
          {
            type: 'inference',
            prompt,
            negativePrompt: negativePrompt ?? d.negativePrompt,
            steps: steps ?? d.steps,
            ...(seed !== undefined ? { seed } : {}),
            drift: drift ?? d.drift,
            fallback: d.fallback,
          },
          { job: job.id, ...(playlist && { playlist }) },
        );
      }
      announce(slug, 'prompt', origin, { prompt, job: job.id });
      return job;
    },

    async showStill(slug, image, holdMs, origin) {
      const canvas = canvasFor(slug);
      checkBytes(image.length, imageLimits, 'The image');
      await checkHeader(image, imageLimits, 'The body');
      const id = `u-${Math.round(clock.now()).toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
      // Shown again from the archive: the play log names its entry and the archive keeps no copy.
      const again = origin.archiveId !== undefined ? { archiveId: origin.archiveId } : {};
      await canvas.showStill({ id, data: image, source: 'upload', createdAt: clock.now(), ...again }, holdMs);
      announce(slug, 'image', origin, { imageId: id, holdMs: holdMs === Infinity ? null : holdMs });
      return { imageId: id };
    },

    async setSource(slug, command, origin) {
      const canvas = canvasFor(slug);
      const source = parseRequest(sourceCommand, command);
      if (source.type === 'playlist') throw playlistsUnavailable();
      if (source.type === 'folder') {
        await registry.setSource(slug, {
          type: 'folder',
          path: await checkPath('path', source.path, 'folder'),
          order: source.order ?? 'name',
        });
      } else if (source.type === 'still') {
        const file = await checkPath('path', source.path, 'file');
        // Refused here, before anything changes or is read: a 1 GB still never reaches the canvas.
        await checkImageFile(file, imageLimits);
        await registry.setSource(slug, { type: 'still', path: file });
      } else if (source.type === 'archive') {
        await registry.setSource(slug, { type: 'archive', selection: selectionOf(source), order: source.order ?? 'name' });
      } else {
        const d = config.canvasDefaults.source;
        const s = await checkPrompt({ ...source, prompt: source.prompt ?? d.prompt }, needInference());
        await registry.setSource(slug, {
          type: 'inference',
          prompt: s.prompt,
          negativePrompt: s.negativePrompt ?? d.negativePrompt,
          steps: s.steps ?? d.steps,
          ...(s.seed !== undefined ? { seed: s.seed } : {}),
          drift: s.drift ?? d.drift,
          fallback: d.fallback,
        });
      }
      announce(slug, 'source', origin, { type: source.type });
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
export const playlistsUnavailable = () =>
  new EaselError('EASEL_ERR_NOT_FOUND', 'Playlists are not available on this server', { hint: 'Check the playlists.dir setting' });
