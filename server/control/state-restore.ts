/**
 * Brings saved runtime state back at start-up, in the order the wall needs it: sources before
 * the canvases start (so their first frame is already the restored one), then pauses and held
 * stills, then playlists at the step they were on. What no longer fits the config is skipped
 * with one line saying why; nothing here stops start-up.
 */
import { statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Canvas } from '../canvas/canvas.js';
import type { Registry, RuntimeSource } from '../canvas/registry.js';
import type { EaselConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { PlaylistManager } from '../playlist/playlist-manager.js';
import type { Clock } from '../stream/clock.js';
import type { RuntimeState } from './runtime-state.js';
import { parseSavedState, type SavedCanvas, type SavedState } from './saved-state.js';
import { readJsonFile, removeLeftovers } from './state-file.js';

const RESTART = { via: 'config', who: 'restart' } as const;
/** How often a canvas restored paused looks for its first frame to show. */
const FIRST_FRAME_POLL_MS = 100;

export async function loadSavedState(file: string, log: Logger): Promise<SavedState | undefined> {
  await removeLeftovers(file);
  const saved = await readJsonFile(file, parseSavedState, log);
  if (saved)
    log.info(
      { file, savedAt: saved.savedAt, canvases: Object.keys(saved.canvases), playlists: saved.playlists.map((p) => p.name) },
      `Restoring runtime state from "${file}"`,
    );
  return saved;
}

export interface RestoreDeps {
  saved: SavedState;
  runtime: RuntimeState;
  registry: Registry;
  config: EaselConfig;
  clock: Clock;
  logger: Logger;
}

const declared = (config: EaselConfig) => new Set(config.canvases.map((c) => c.slug));

/** Saved sources that can still run here, by slug; `registry.startDeclared` starts canvases on them. */
export function restorableSources(deps: RestoreDeps): Map<string, RuntimeSource> {
  const { saved, config, logger: log } = deps;
  const known = declared(config);
  const out = new Map<string, RuntimeSource>();
  for (const [slug, canvas] of Object.entries(saved.canvases)) {
    if (!known.has(slug)) {
      log.info({ slug }, `Saved state for canvas "${slug}" ignored: the config declares no such canvas`);
      continue;
    }
    const source = canvas.source;
    if (!source) continue;
    const problem = whyNotRestorable(source, config);
    if (problem) log.warn({ slug, source }, `Saved source of "${slug}" not restored (${problem}); it starts with its configured source`);
    else out.set(slug, source);
  }
  return out;
}

/** Why a saved source cannot run here now (its folder or file is gone, no inference); undefined when it can. */
export function whyNotRestorable(source: RuntimeSource, config: EaselConfig): string | undefined {
  const kind = (p: string) => {
    try {
      const s = statSync(p);
      return s.isDirectory() ? 'folder' : s.isFile() ? 'file' : 'other';
    } catch {
      return 'missing';
    }
  };
  if (source.type === 'inference') return config.inference.endpoints.length === 0 ? 'no inference service is configured now' : undefined;
  if (source.type === 'folder') return kind(source.path) === 'folder' ? undefined : `folder "${source.path}" is gone`;
  if (source.type === 'archive') return config.archive.dir === '' ? 'the archive is off now (archive.dir is "")' : undefined;
  return kind(source.path) === 'file' ? undefined : `file "${source.path}" is gone`;
}

/** A saved source a canvas can start on at once: archive selections wait for the archive to open. */
export const startingSource = (source: RuntimeSource | undefined): RuntimeSource | undefined =>
  source?.type === 'archive' ? undefined : source;

/**
 * Once the archive is open (its index can take seconds to read): each canvas saved playing an
 * archive selection plays it again, taken from the archive as it is now. Until then it runs its
 * configured source, never a dark screen. A selection that no longer matches anything, or an
 * archive that did not open, leaves the canvas on its configured source with one line. An
 * operator's change in the meantime wins. Never rejects.
 */
export async function restoreArchiveSources(
  deps: RestoreDeps,
  sources: Map<string, RuntimeSource>,
  archiveOpen: Promise<boolean> | undefined,
  closing: () => boolean,
): Promise<void> {
  const waiting = [...sources].filter(([, source]) => source.type === 'archive');
  if (waiting.length === 0) return;
  const open = (await archiveOpen) ?? false;
  // Stopping before the archive opened: the saved selection stays saved for the next start.
  if (closing()) return;
  for (const [slug, source] of waiting) {
    const log = deps.logger.child({ slug });
    if (deps.runtime.sourceOf(slug) !== source) continue;
    try {
      if (!open) throw new Error('the archive did not open');
      if (closing()) return;
      await deps.registry.setSource(slug, source);
      log.info({ source }, `Canvas "${slug}" plays its saved archive selection again`);
    } catch (err) {
      deps.runtime.dropSource(slug);
      log.warn(
        { source, err: (err as Error).message },
        `Saved archive selection of "${slug}" not restored (${(err as Error).message}); it runs its configured source`,
      );
    }
  }
}

/** After the declared canvases started: pauses and held stills. */
export async function restoreCanvases(deps: RestoreDeps, sources: Map<string, RuntimeSource>): Promise<void> {
  const { saved, registry, runtime, config } = deps;
  const known = declared(config);
  await Promise.all(
    Object.entries(saved.canvases).map(async ([slug, entry]) => {
      const canvas = registry.get(slug);
      if (!known.has(slug) || !canvas) return;
      if (entry.paused) canvas.pause();
      const held = entry.hold ? await restoreStill(canvas, entry, deps) : false;
      // A canvas paused before its first frame would stay dark: it shows one frame, then waits.
      if (entry.paused && !held) showFirstFrame(canvas, deps.clock);
      runtime.adopt(slug, entry, { source: sources.has(slug), paused: entry.paused === true, hold: held });
      deps.logger.info(
        { slug, source: sources.get(slug)?.type, paused: entry.paused === true, held },
        `Canvas "${slug}" restored as it was before the restart`,
      );
    }),
  );
}

async function restoreStill(canvas: Canvas, entry: SavedCanvas, deps: RestoreDeps): Promise<boolean> {
  const hold = entry.hold!;
  const log = deps.logger.child({ slug: canvas.slug });
  const remaining = hold.until === null ? Infinity : hold.until - deps.clock.now();
  if (remaining <= 0 && !entry.paused) {
    log.info({ until: new Date(hold.until!).toISOString() }, 'Saved hold of a still ended while the server was down; not shown again');
    return false;
  }
  const file = path.join(deps.runtime.stillsDir, hold.file);
  try {
    const data = await readFile(file);
    if (data.length > deps.config.render.maxFileBytes)
      throw new Error(`it is over render.maxFileBytes (${deps.config.render.maxFileBytes} bytes)`);
    await canvas.showStill(
      { id: hold.imageId, data, source: 'upload', createdAt: deps.clock.now(), restored: true },
      Math.max(0, remaining),
    );
    return true;
  } catch (err) {
    log.warn({ file, err: (err as Error).message }, `Saved still "${file}" cannot be shown again: ${(err as Error).message}`);
    return false;
  }
}

function showFirstFrame(canvas: Canvas, clock: Clock): void {
  const look = () => {
    const snap = canvas.snapshot();
    if (snap.state !== 'paused' || snap.lastFrame) return;
    if (!canvas.next()) clock.setTimeout(look, FIRST_FRAME_POLL_MS);
  };
  look();
}

/** Once playlists are loaded: each saved show begins again at the step it was on. */
export async function restorePlaylists(deps: RestoreDeps, playlists: Pick<PlaylistManager, 'resume'>): Promise<void> {
  const { saved, registry, logger: log } = deps;
  const known = declared(deps.config);
  for (const p of saved.playlists) {
    const slugs = p.slugs.filter((s) => known.has(s) && registry.get(s));
    const dropped = p.slugs.filter((s) => !slugs.includes(s));
    if (dropped.length > 0)
      log.info(
        { playlist: p.name, slugs: dropped },
        `Playlist "${p.name}" not restored on ${dropped.map((s) => `"${s}"`).join(', ')}: the config declares no such canvas`,
      );
    if (slugs.length === 0) continue;
    try {
      await playlists.resume(p.name, slugs, { stepIndex: p.stepIndex, loopCount: p.loopCount }, RESTART);
    } catch (err) {
      log.warn({ playlist: p.name, slugs, err: (err as Error).message }, `Playlist "${p.name}" not restored: ${(err as Error).message}`);
    }
  }
}
