/**
 * A node that takes a canvas over (its lease was free: the owner died, or handed it back) goes on
 * from the state the last owner kept in Redis, before the canvas's first frame here: the source
 * (and prompt), the pause, an operator's held still, the playlist at the step it was on, seq and
 * presentAt. A job the last owner was running is reported failed (its node is gone; the canvas
 * goes on with the same prompt, with no job counting its images). A state that cannot be read or
 * used is logged and skipped: the canvas then starts as declared.
 */
import type { Registry } from '../canvas/registry.js';
import type { EaselConfig } from '../config.js';
import type { JobTracker } from '../control/jobs.js';
import type { RuntimeState } from '../control/runtime-state.js';
import { whyNotRestorable } from '../control/state-restore.js';
import type { Logger } from '../logger.js';
import type { PlaylistManager } from '../playlist/playlist-manager.js';
import type { Clock } from '../stream/clock.js';
import { MAX_STATE_BYTES, parseSharedCanvasState, type SharedCanvasState } from './shared-canvas-state.js';
import type { SharedStateStore } from './shared-state-store.js';

const FAILOVER = { via: 'config', who: 'failover' } as const;
const LIVE_JOB = new Set(['queued', 'generating']);

export interface TakeoverDeps {
  store: SharedStateStore;
  registry: Registry;
  runtime: RuntimeState;
  playlists: Pick<PlaylistManager, 'resume'>;
  jobs: Pick<JobTracker, 'abandon'>;
  config: EaselConfig;
  clock: Clock;
  logger: Logger;
  nodeId: string;
  /** Keeps a restored still's bytes where this node's state keeper finds them. */
  keepStill: (slug: string, name: string, data: Buffer) => void;
}

/** The canvas's shared state, or undefined (none yet, or unreadable: logged, never thrown). */
export async function readSharedState(store: SharedStateStore, slug: string, log: Logger): Promise<SharedCanvasState | undefined> {
  let read: Awaited<ReturnType<SharedStateStore['readState']>>;
  try {
    read = await store.readState(slug, MAX_STATE_BYTES);
  } catch (err) {
    log.warn({ slug, err: String(err) }, `Shared state of "${slug}" cannot be read from Redis; the canvas starts as declared`);
    return undefined;
  }
  if (!read.found) {
    if (read.problem) log.warn({ slug, problem: read.problem }, `Shared state of "${slug}" in Redis ignored: it ${read.problem}`);
    return undefined;
  }
  try {
    return parseSharedCanvasState(read.value, slug);
  } catch (err) {
    log.warn(
      { slug, problem: (err as Error).message, bytes: read.value.length },
      `Shared state of "${slug}" in Redis ignored (${(err as Error).message}); the canvas starts as declared`,
    );
    return undefined;
  }
}

/**
 * Restores `slug` and starts producing it (from `startAt`, cluster time, when handed over).
 * `current()` turns false when the lease was lost meanwhile: then nothing more is done and the
 * canvas is not started.
 */
export async function takeOver(deps: TakeoverDeps, slug: string, current: () => boolean, startAt?: number): Promise<void> {
  const { registry, runtime, config, clock } = deps;
  const log = deps.logger.child({ slug });
  const shared = await readSharedState(deps.store, slug, log);
  const canvas = registry.get(slug);
  if (!canvas || !current()) return;
  const noted = runtime.sourceOf(slug) !== undefined;
  runtime.forget(slug);
  if (!shared) {
    // This node changed the canvas when it last produced it; nobody kept anything since.
    if (noted) await registry.setSource(slug, registry.initialSource(slug));
    if (canvas.snapshot().state === 'paused') canvas.resume();
    if (current()) registry.produce(slug, true, startAt);
    return;
  }
  canvas.raiseSeq(shared.seq, shared.presentAt ?? undefined);
  const entry = shared.canvas;
  const problem = entry.source && whyNotRestorable(entry.source, config);
  if (problem) log.warn({ source: entry.source }, `Shared source of "${slug}" not restored (${problem}); it runs its configured source`);
  let source = entry.source && !problem ? entry.source : undefined;
  if (source) {
    try {
      await registry.setSource(slug, source);
    } catch (err) {
      // An archive selection is taken from this node's own archive, which may hold none of it;
      // refused before the canvas changes, so it runs what it ran.
      log.warn(
        { source, err: (err as Error).message },
        `Shared source of "${slug}" not restored (${(err as Error).message}); it runs its configured source`,
      );
      source = undefined;
    }
  }
  if (!source && noted) await registry.setSource(slug, registry.initialSource(slug));
  if (!current()) return;
  if (entry.paused) canvas.pause();
  else if (canvas.snapshot().state === 'paused') canvas.resume();
  const held = entry.hold ? await restoreStill(deps, slug, shared) : false;
  if (!current()) return;
  registry.produce(slug, true, startAt);
  runtime.adopt(slug, entry, { source: source !== undefined, paused: entry.paused === true, hold: held });
  if (shared.playlist) {
    const { name, stepIndex, loopCount } = shared.playlist;
    try {
      await deps.playlists.resume(name, [slug], { stepIndex, loopCount }, FAILOVER);
    } catch (err) {
      log.warn({ playlist: name, err: (err as Error).message }, `Playlist "${name}" not resumed on "${slug}": ${(err as Error).message}`);
    }
  }
  if (shared.job && LIVE_JOB.has(shared.job.state))
    deps.jobs.abandon(
      shared.job,
      `Node ${shared.node} stopped before the job ended; node ${deps.nodeId} took the canvas over and goes on with the same prompt`,
    );
  log.info(
    {
      from: shared.node,
      epoch: shared.epoch,
      savedAt: new Date(shared.savedAt).toISOString(),
      ageMs: clock.now() - shared.savedAt,
      source: source?.type,
      paused: entry.paused === true,
      held,
      playlist: shared.playlist?.name,
      seq: shared.seq,
    },
    `Canvas "${slug}" taken over from node ${shared.node} with its shared state`,
  );
}

async function restoreStill(deps: TakeoverDeps, slug: string, shared: SharedCanvasState): Promise<boolean> {
  const hold = shared.canvas.hold!;
  const log = deps.logger.child({ slug });
  const canvas = deps.registry.existing(slug);
  const remaining = hold.until === null ? Infinity : hold.until - deps.clock.now();
  if (remaining <= 0 && !shared.canvas.paused) return false;
  const max = deps.config.render.maxFileBytes;
  try {
    const read = await deps.store.readStill(slug, max);
    if (!read.found) throw new Error(read.problem ? `its bytes in Redis ${read.problem}` : 'its bytes are not in Redis');
    if (read.value.imageId !== hold.imageId) throw new Error(`Redis holds still "${read.value.imageId}" instead`);
    const { data } = read.value;
    await canvas.showStill(
      { id: hold.imageId, data, source: 'upload', createdAt: deps.clock.now(), restored: true },
      Math.max(0, remaining),
    );
    deps.keepStill(slug, hold.file, data);
    return true;
  } catch (err) {
    log.warn({ imageId: hold.imageId, err: (err as Error).message }, `Held still of "${slug}" not shown again: ${(err as Error).message}`);
    return false;
  }
}
