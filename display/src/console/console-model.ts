import { JobState, SourceState, type CanvasInfo, type JobInfo, type ServerEvent } from './api-types.js';
import { eventWords, isJobRunning, Tone, type Words } from './describe.js';

/** The event feed keeps this many lines, newest first. */
export const FEED_LIMIT = 50;

export interface FeedEntry {
  id: number;
  /** When the console heard it, epoch ms. */
  at: number;
  text: string;
  tone: Words['tone'];
}

export interface TrackedJob {
  job: JobInfo;
  /** When the console last heard about it, epoch ms. */
  seenAt: number;
}

/**
 * Everything the console shows, as one immutable value: the server's canvases merged with what
 * the events stream and the console's own commands said since, the latest job of each canvas
 * (kept after it ends, so "done" and "failed" stay on the card), and the feed.
 */
export interface ConsoleModel {
  readonly canvases: readonly CanvasInfo[];
  readonly jobs: Readonly<Record<string, TrackedJob>>;
  readonly feed: readonly FeedEntry[];
  /** When each canvas last changed through an event or a command reply, epoch ms. */
  readonly touched: Readonly<Record<string, number>>;
  readonly nextId: number;
}

export function emptyModel(): ConsoleModel {
  return { canvases: [], jobs: {}, feed: [], touched: {}, nextId: 1 };
}

/**
 * A whole canvas list: `GET /api/canvases` asked at `requestedAt`, or the events stream's hello.
 * A canvas that changed (by an event or a command reply) while the list was on its way keeps
 * its newer state, so a slow poll never flips "paused" back to "streaming".
 */
export function applyCanvasList(model: ConsoleModel, list: readonly CanvasInfo[], requestedAt: number): ConsoleModel {
  const local = new Map(model.canvases.map((c) => [c.slug, c]));
  const canvases = list.map((remote) => {
    const mine = local.get(remote.slug);
    if (!mine) return remote;
    // The events stream's hello has no extras (job, playlist): keep what the last full list said.
    const known = remote.playlist === undefined && mine.playlist !== undefined ? { ...remote, playlist: mine.playlist } : remote;
    if ((model.touched[remote.slug] ?? 0) <= requestedAt) return known;
    return {
      ...known,
      state: mine.state,
      holding: mine.holding,
      source: mine.source.kind === remote.source.kind ? remote.source : mine.source,
    };
  });
  let jobs = model.jobs;
  for (const c of list) if (c.job) jobs = withJob(jobs, c.job, requestedAt);
  return { ...model, canvases, jobs };
}

/** One canvas as a command reply described it, just now. */
export function applyCanvas(model: ConsoleModel, canvas: CanvasInfo, at: number): ConsoleModel {
  const found = model.canvases.some((c) => c.slug === canvas.slug);
  const canvases = found ? model.canvases.map((c) => (c.slug === canvas.slug ? canvas : c)) : [...model.canvases, canvas];
  const jobs = canvas.job ? withJob(model.jobs, canvas.job, at) : model.jobs;
  return { ...model, canvases, jobs, touched: { ...model.touched, [canvas.slug]: at } };
}

/** A job as a command reply or an event gave it (older news about a job is ignored). */
export function applyJob(model: ConsoleModel, job: JobInfo, at: number): ConsoleModel {
  const jobs = withJob(model.jobs, job, at);
  return jobs === model.jobs ? model : { ...model, jobs };
}

/** One message of `/api/events`, with its line in the feed when it deserves one. */
export function applyEvent(model: ConsoleModel, event: ServerEvent, at: number): ConsoleModel {
  switch (event.type) {
    case 'hello':
      return applyCanvasList(model, event.canvases, at);
    case 'canvas': {
      if (event.removed !== undefined) {
        const canvases = model.canvases.filter((c) => c.slug !== event.slug);
        const why = event.removed === 'idle' ? 'no display watched it' : 'an operator removed it';
        return addFeedLine({ ...model, canvases }, { text: `${event.slug}: removed (${why})`, tone: Tone.Info }, at);
      }
      const before = model.canvases.find((c) => c.slug === event.slug);
      const newKind = event.source !== undefined && event.source !== before?.source.kind;
      const canvases = model.canvases.map((c) => {
        if (c.slug !== event.slug) return c;
        const source = newKind ? { kind: event.source!, state: SourceState.Ok } : c.source;
        return { ...c, ...(event.state !== undefined ? { state: event.state } : {}), source };
      });
      const changed = { ...model, canvases, touched: { ...model.touched, [event.slug]: at } };
      // A new folder for a folder canvas (a playlist step, say) is not news worth a line.
      const { source: _source, ...rest } = event;
      return addFeedLine(changed, eventWords(newKind ? event : rest), at);
    }
    case 'job': {
      const before = model.jobs[event.job.slug]?.job;
      const next = applyJob(model, event.job, at);
      if (next === model) return model; // old news: no line either
      return addFeedLine(next, eventWords(event, before?.id === event.job.id ? before.state : undefined), at);
    }
    case 'command':
    case 'playlist':
      return addFeedLine(model, eventWords(event), at);
    default:
      return model;
  }
}

/** A line of the console's own (lost connection, ...) or of an event. */
export function addFeedLine(model: ConsoleModel, words: Words | undefined, at: number): ConsoleModel {
  if (!words) return model;
  const entry: FeedEntry = { id: model.nextId, at, ...words };
  return { ...model, feed: [entry, ...model.feed].slice(0, FEED_LIMIT), nextId: model.nextId + 1 };
}

/**
 * Jobs the console still shows running that a list asked at `requestedAt` (after their last
 * news) no longer has: their end was missed (the events stream dropped), so ask for them.
 */
export function vanishedJobs(model: ConsoleModel, list: readonly CanvasInfo[], requestedAt: number): string[] {
  const ids: string[] = [];
  for (const c of list) {
    const tracked = model.jobs[c.slug];
    if (!tracked || !isJobRunning(tracked.job) || tracked.seenAt >= requestedAt || c.job === undefined) continue;
    if (c.job === null || c.job.id !== tracked.job.id) ids.push(tracked.job.id);
  }
  return ids;
}

/** Progress order within one job; an ended job is final. */
function rank(job: JobInfo): number {
  if (!isJobRunning(job)) return Infinity;
  return job.produced + (job.state === JobState.Generating ? 0.5 : 0);
}

function withJob(jobs: ConsoleModel['jobs'], job: JobInfo, seenAt: number): ConsoleModel['jobs'] {
  const current = jobs[job.slug]?.job;
  if (current) {
    const newer = current.id === job.id ? rank(job) > rank(current) : Date.parse(job.createdAt) >= Date.parse(current.createdAt);
    if (!newer) return jobs;
  }
  return { ...jobs, [job.slug]: { job, seenAt } };
}
