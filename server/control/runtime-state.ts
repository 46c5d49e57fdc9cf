/**
 * Keeps what operators change at run time in a state file, so a restart (or a power cut) brings
 * the wall back as it was: each successful command is noted as it returns, and the file is
 * rewritten (atomically, at most once a second, off the pacing path) from the noted commands
 * and the canvases' and playlists' own state.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { selectionOf } from '../archive/archive-selection.js';
import type { Registry, RuntimeSource } from '../canvas/registry.js';
import type { EaselConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { PlaylistRunnerStatus } from '../playlist/playlist-runner.js';
import type { Clock } from '../stream/clock.js';
import type { SourceCommand } from './command-types.js';
import type { SourceCommands } from './commands.js';
import type { EventBus } from './events.js';
import type { SavedCanvas, SavedState } from './saved-state.js';
import { createDebouncedWriter, writeFileAtomic } from './state-file.js';

/**
 * Where noted state is kept: the state file and its stills folder by default; in cluster mode,
 * Redis (server/cluster/shared-state.ts), each canvas by the node that produces it.
 */
export interface RuntimeSink {
  /** Keeps a still's bytes under `name`, so it can be shown again; rejects when it cannot. */
  keepStill(slug: string, name: string, image: Buffer): Promise<void>;
  /** Something changed: keep it soon. */
  changed(): void;
  /** Keeps what changed since the last time, then nothing more. */
  close(): Promise<void>;
}

export interface RuntimeStateOptions {
  /** The state file, resolved (unused with a `sink`). */
  file: string;
  /** Instead of the state file: where a cluster keeps runtime state. */
  sink?: RuntimeSink;
  registry: Registry;
  /** The playlists running now. */
  runningPlaylists: () => PlaylistRunnerStatus[];
  events: EventBus;
  config: EaselConfig;
  clock: Clock;
  logger: Logger;
}

interface KeptStill {
  imageId: string;
  file: string;
  holdMs: number;
  /** When it was asked for, clock ms: the hold starts once it is on screen. */
  requestedAt: number;
  /** Set once its bytes are on disk (false: they could not be written). */
  stored?: boolean;
  writing?: Promise<void>;
}

const ENDED = new Set(['done', 'cancelled', 'failed']);

export function createRuntimeState(options: RuntimeStateOptions) {
  const { file, registry, config, clock } = options;
  const log = options.logger.child({ component: 'state' });
  const stillsDir = path.join(path.dirname(file), 'stills');
  const sources = new Map<string, RuntimeSource>();
  const paused = new Set<string>();
  const stills = new Map<string, KeptStill>();
  /** The source noted before a prompt, by job id: a cancelled job puts the canvas back. */
  const beforeJob = new Map<string, { slug: string; previous: RuntimeSource | undefined }>();
  let lastWritten = '';

  function snapshotCanvas(slug: string): SavedCanvas | undefined {
    const canvas = registry.get(slug);
    if (!canvas) return undefined;
    const snap = canvas.snapshot();
    const entry: SavedCanvas = {};
    const source = sources.get(slug);
    if (source) entry.source = source;
    if (paused.has(slug) && snap.state === 'paused') entry.paused = true;
    const still = stills.get(slug);
    if (still?.stored) {
      const shown = snap.lastFrame?.imageId === still.imageId;
      const until = snap.holding ? (snap.holding.until === null ? null : Date.parse(snap.holding.until)) : undefined;
      // A paused canvas keeps its still on screen after the hold; a still not yet shown is still owed its hold.
      if (shown && until !== undefined) entry.hold = { imageId: still.imageId, file: still.file, until };
      else if (shown && entry.paused) entry.hold = { imageId: still.imageId, file: still.file, until: 0 };
      else if (!shown && clock.now() - still.requestedAt < 10_000) {
        entry.hold = {
          imageId: still.imageId,
          file: still.file,
          until: still.holdMs === Infinity ? null : Math.round(clock.now() + still.holdMs),
        };
      }
    }
    return Object.keys(entry).length > 0 ? entry : undefined;
  }

  function snapshot(): SavedState {
    const canvases: Record<string, SavedCanvas> = {};
    for (const canvas of registry.list()) {
      const entry = snapshotCanvas(canvas.slug);
      if (entry) canvases[canvas.slug] = entry;
    }
    const playlists = options
      .runningPlaylists()
      .filter((p) => p.state === 'running')
      .map((p) => ({ name: p.playlist, slugs: p.slugs, stepIndex: p.stepIndex, loopCount: p.loopCount }));
    return { version: 1, savedAt: new Date().toISOString(), canvases, playlists };
  }

  async function save(): Promise<void> {
    await Promise.all([...stills.values()].map((s) => s.writing));
    const state = snapshot();
    const same = JSON.stringify({ ...state, savedAt: '' });
    if (same === lastWritten) return;
    await writeFileAtomic(file, `${JSON.stringify(state, null, 2)}\n`);
    lastWritten = same;
    await pruneStills(state);
  }

  /** Removes still files no saved hold and no pending still names. */
  async function pruneStills(state: SavedState): Promise<void> {
    const keep = new Set([
      ...Object.values(state.canvases).flatMap((c) => (c.hold ? [c.hold.file] : [])),
      ...[...stills.values()].map((s) => s.file),
    ]);
    const names = await readdir(stillsDir).catch(() => [] as string[]);
    await Promise.all(names.filter((n) => !keep.has(n)).map((n) => rm(path.join(stillsDir, n), { force: true })));
  }

  const writer: RuntimeSink = options.sink ?? {
    ...createDebouncedWriter({ write: save, clock, logger: log, file }),
    keepStill: (_slug, name, image) => writeFileAtomic(path.join(stillsDir, name), image),
  };
  const unsubscribe = options.events.subscribe((event) => {
    if (event.type === 'command' || event.type === 'playlist' || (event.type === 'job' && event.job.state === 'cancelled'))
      writer.changed();
  });

  function keepStill(slug: string, imageId: string, image: Buffer, holdMs: number): void {
    stills.delete(slug);
    if (image.length > config.render.maxFileBytes) {
      log.warn(
        { slug, bytes: image.length, maxFileBytes: config.render.maxFileBytes },
        'Still is over render.maxFileBytes: it will not be shown again after a restart',
      );
      return;
    }
    const still: KeptStill = { imageId, file: `${slug}-${imageId}`, holdMs, requestedAt: clock.now() };
    still.writing = writer.keepStill(slug, still.file, image).then(
      () => {
        still.stored = true;
      },
      (err: unknown) => {
        still.stored = false;
        log.warn({ slug, err }, 'Cannot keep the still: it will not be shown again after a restart');
      },
    );
    stills.set(slug, still);
  }

  function noteSource(slug: string, source: SourceCommand): void {
    const d = config.canvasDefaults.source;
    if (source.type === 'folder') sources.set(slug, { type: 'folder', path: path.resolve(source.path), order: source.order ?? 'name' });
    else if (source.type === 'still') sources.set(slug, { type: 'still', path: path.resolve(source.path) });
    // The selection as taken (times as epoch ms): after a restart it is taken again from the archive as it is then.
    else if (source.type === 'archive')
      sources.set(slug, { type: 'archive', selection: selectionOf(source), order: source.order ?? 'name' });
    else if (source.type === 'inference') {
      const { prompt, negativePrompt, steps, seed, drift } = source;
      sources.set(slug, {
        type: 'inference',
        prompt: prompt ?? d.prompt,
        negativePrompt: negativePrompt ?? d.negativePrompt,
        steps: steps ?? d.steps,
        ...(seed !== undefined && { seed }),
        drift: drift ?? d.drift,
        fallback: d.fallback,
      });
    }
  }

  return {
    file,
    stillsDir,
    /** What is noted of one canvas now; undefined when nothing is. */
    snapshotCanvas,

    /** Notes nothing more of a canvas (cluster mode: its state is taken from Redis next). */
    forget(slug: string): void {
      sources.delete(slug);
      paused.delete(slug);
      stills.delete(slug);
      for (const [id, j] of beforeJob) if (j.slug === slug) beforeJob.delete(id);
    },

    /** The source noted for the canvas; undefined: it runs its configured one. */
    sourceOf: (slug: string): RuntimeSource | undefined => sources.get(slug),

    /** A restored source could not be put back after all: the canvas runs its configured one. */
    dropSource(slug: string): void {
      if (sources.delete(slug)) writer.changed();
    },

    /** The same commands, each noted here once it succeeded. */
    wrap<C extends SourceCommands>(inner: C): C {
      const changed = () => writer.changed();
      return {
        ...inner,
        async setPrompt(slug, command, origin) {
          const job = await inner.setPrompt(slug, command, origin);
          for (const [id, j] of beforeJob) if (j.slug === slug) beforeJob.delete(id);
          beforeJob.set(job.id, { slug, previous: sources.get(slug) });
          const initial = registry.initialSource(slug);
          const fallback = initial.type === 'inference' ? initial.fallback : config.canvasDefaults.source.fallback;
          noteSource(slug, { type: 'inference', ...command });
          sources.set(slug, { ...(sources.get(slug) as Extract<RuntimeSource, { type: 'inference' }>), fallback });
          stills.delete(slug);
          changed();
          return job;
        },
        async setSource(slug, source, origin) {
          await inner.setSource(slug, source, origin);
          if (source.type !== 'playlist') {
            noteSource(slug, source);
            stills.delete(slug);
          }
          changed();
        },
        async showStill(slug, image, holdMs, origin) {
          const shown = await inner.showStill(slug, image, holdMs, origin);
          keepStill(slug, shown.imageId, image, holdMs);
          changed();
          return shown;
        },
        pause(slug, origin) {
          inner.pause(slug, origin);
          if (origin.via !== 'playlist') paused.add(slug);
          changed();
        },
        resume(slug, origin) {
          inner.resume(slug, origin);
          paused.delete(slug);
          stills.delete(slug);
          changed();
        },
        next(slug, origin) {
          inner.next(slug, origin);
          stills.delete(slug);
          changed();
        },
        cancelJob(id, origin) {
          const wasRunning = !ENDED.has(inner.job(id).state);
          const job = inner.cancelJob(id, origin);
          const before = beforeJob.get(id);
          // The canvas goes back to the prompt before, or else to its source from config.
          if (wasRunning && before) {
            if (before.previous?.type === 'inference') sources.set(before.slug, before.previous);
            else sources.delete(before.slug);
          }
          beforeJob.delete(id);
          changed();
          return job;
        },
      };
    },

    /** What was restored from the file counts as noted, so the next write keeps it. */
    adopt(slug: string, saved: SavedCanvas, restored: { source: boolean; paused: boolean; hold: boolean }): void {
      if (restored.source && saved.source) sources.set(slug, saved.source);
      if (restored.paused) paused.add(slug);
      if (restored.hold && saved.hold) {
        const holdMs = saved.hold.until === null ? Infinity : Math.max(0, saved.hold.until - clock.now());
        stills.set(slug, { imageId: saved.hold.imageId, file: saved.hold.file, holdMs, requestedAt: clock.now(), stored: true });
      }
      writer.changed();
    },

    /** Writes what changed since the last write, then notes nothing more; call before anything shuts down. */
    async close(): Promise<void> {
      unsubscribe();
      await writer.close();
    },
  };
}

export type RuntimeState = ReturnType<typeof createRuntimeState>;
