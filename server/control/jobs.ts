import { randomUUID } from 'node:crypto';
import { EaselError } from '../errors.js';
import type { JobSnapshot } from './command-types.js';
import type { EventBus } from './events.js';
import type { RegistryEvent } from '../canvas/registry.js';
import { systemClock, type Clock } from '../stream/clock.js';

export interface JobTrackerOptions {
  events: EventBus;
  /** Where jobs hear of the frames shown and the prompts refused, each carrying its job id. */
  canvases: { onEvent(listener: (event: RegistryEvent) => void): () => void };
  /** Default: the system clock. */
  clock?: Clock;
}

interface Job extends JobSnapshot {
  /** Puts the canvas back as it was before this job's prompt, when it is cancelled. */
  revert: () => Promise<void>;
}

const ENDED = new Set(['done', 'cancelled', 'failed']);
const KEEP_ENDED = 200;

/**
 * Generation jobs: one per prompt command, reporting queued → generating n/N → done (or
 * cancelled, failed with a reason) on the event bus as the canvas shows the job's frames.
 */
export function createJobTracker(options: JobTrackerOptions) {
  const { events } = options;
  const clock = options.clock ?? systemClock;
  const isoNow = () => new Date(clock.now()).toISOString();
  const jobs = new Map<string, Job>();
  const snapshot = ({ revert: _revert, ...job }: Job): JobSnapshot => ({ ...job });

  const update = (job: Job, change: Partial<JobSnapshot>) => {
    Object.assign(job, change);
    if (ENDED.has(job.state)) job.endedAt ??= isoNow();
    events.emit({ type: 'job', job: snapshot(job) });
  };

  const prune = () => {
    const ended = [...jobs.values()].filter((j) => ENDED.has(j.state));
    for (const job of ended.slice(0, Math.max(0, ended.length - KEEP_ENDED))) jobs.delete(job.id);
  };

  const running = (slug: string) => [...jobs.values()].filter((j) => j.slug === slug && !ENDED.has(j.state));

  const find = (id: string): Job => {
    const job = jobs.get(id);
    if (!job)
      throw new EaselError('EASEL_ERR_NOT_FOUND', `No job "${id}"`, {
        hint: 'Jobs are kept for the last 200 prompts; GET /api/canvases/:slug shows the current one',
      });
    return job;
  };

  const live = (id: string | undefined): Job | undefined => {
    const job = id === undefined ? undefined : jobs.get(id);
    return job && !ENDED.has(job.state) ? job : undefined;
  };

  options.canvases.onEvent((event) => {
    if (event.type === 'frame') {
      const job = live(event.frame.image.job);
      if (!job) return;
      const produced = job.produced + 1;
      update(job, produced >= job.count ? { produced, state: 'done' } : { produced, state: 'generating' });
    } else if (event.type === 'refused') {
      // A refused request (bad size, steps) is refused for good: its job fails with the reason.
      const job = live(event.job);
      if (job) update(job, { state: 'failed', reason: event.reason });
    }
  });

  return {
    /** A new job for `slug`; any job still running there is cancelled as replaced. */
    create(slug: string, prompt: string, count: number, revert: () => Promise<void>): JobSnapshot {
      for (const old of running(slug)) update(old, { state: 'cancelled', reason: 'Replaced by a newer prompt' });
      const job: Job = { id: randomUUID(), slug, prompt, count, produced: 0, state: 'queued', createdAt: isoNow(), revert };
      jobs.set(job.id, job);
      prune();
      events.emit({ type: 'job', job: snapshot(job) });
      return snapshot(job);
    },

    async cancel(id: string): Promise<JobSnapshot> {
      const job = find(id);
      if (ENDED.has(job.state)) return snapshot(job);
      update(job, { state: 'cancelled', reason: 'Cancelled by an operator' });
      await job.revert();
      return snapshot(job);
    },

    /**
     * Cluster mode: a job whose canvas changed nodes before it ended fails with `reason`, here
     * (its node lost the canvas) or as recorded by the node that died (this node took it over).
     */
    abandon(job: JobSnapshot, reason: string): JobSnapshot {
      const known = jobs.get(job.id);
      if (known && ENDED.has(known.state)) return snapshot(known);
      const kept = known ?? { ...job, revert: () => Promise.resolve() };
      if (!known) jobs.set(kept.id, kept);
      update(kept, { state: 'failed', reason });
      prune();
      return snapshot(kept);
    },

    get: (id: string): JobSnapshot => snapshot(find(id)),
    current: (slug: string): JobSnapshot | undefined => {
      const job = running(slug)[0];
      return job && snapshot(job);
    },
  };
}

export type JobTracker = ReturnType<typeof createJobTracker>;
