import type { JobSnapshot } from '../control/command-types.js';
import type { EaselEvent, EventBus } from '../control/events.js';
import type { Logger } from '../logger.js';

/**
 * Jobs seen from any node. A job lives on the node whose canvas took its prompt; each change
 * of it is also written to Redis (`<prefix>job:<id>` = {node, job}, kept a day), so another
 * node answers `GET /api/jobs/:id` from there and sends a cancel to the node holding the job.
 */

export interface JobStore {
  putJob(id: string, value: string, ttlMs: number): Promise<void>;
  getJob(id: string): Promise<string | undefined>;
}

export interface ClusterJobs {
  /** The job as its node last wrote it; undefined when Redis has none (or cannot be read). */
  find(id: string): Promise<{ node: string; job: JobSnapshot } | undefined>;
}

export interface ClusterJobsOptions {
  store: JobStore;
  events: EventBus;
  nodeId: string;
  /** Events from other nodes are theirs to write. */
  isRemote: (event: EaselEvent) => boolean;
  logger: Logger;
  /** Default: a day, longer than any job runs. */
  ttlMs?: number;
}

const STATES = new Set(['queued', 'generating', 'done', 'cancelled', 'failed']);
const MAX_JOB_ID = 100;

/** A stored job as far as it reads as one; undefined for anything else. */
export function readStoredJob(text: string): { node: string; job: JobSnapshot } | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const r = v as { node?: unknown; job?: Partial<JobSnapshot> } | null;
  const job = r?.job;
  if (typeof r?.node !== 'string' || typeof job !== 'object' || job === null) return undefined;
  if (typeof job.id !== 'string' || typeof job.slug !== 'string' || !STATES.has(job.state as string)) return undefined;
  return { node: r.node, job: job as JobSnapshot };
}

export function createClusterJobs(options: ClusterJobsOptions): ClusterJobs & { close(): void } {
  const { store, nodeId } = options;
  const ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
  const log = options.logger.child({ component: 'jobs' });
  let failing = false;
  const stop = options.events.subscribe((event) => {
    if (event.type !== 'job' || options.isRemote(event)) return;
    store.putJob(event.job.id, JSON.stringify({ node: nodeId, job: event.job }), ttlMs).then(
      () => {
        failing = false;
      },
      (err: unknown) => {
        // Said once per outage; the next change of the job writes it whole again.
        if (!failing)
          log.warn({ slug: event.job.slug, job: event.job.id, err: String(err) }, 'Job not written to Redis: other nodes cannot see it');
        failing = true;
      },
    );
  });
  return {
    async find(id) {
      if (id.length === 0 || id.length > MAX_JOB_ID) return undefined;
      const text = await store.getJob(id).catch(() => undefined);
      return text === undefined ? undefined : readStoredJob(text);
    },
    close: stop,
  };
}
