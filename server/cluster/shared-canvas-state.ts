/**
 * What a cluster keeps of each declared canvas in Redis, written by the node that produces it:
 * the same entry the state file keeps per canvas (SavedCanvas: source, pause, held still), plus
 * what a node taking the canvas over needs to go on where the last one stopped (the playlist
 * step, the job in flight, the last seq and presentAt). Values come from Redis, which anyone on
 * the network may write to: everything is checked, and a bad value is refused as a whole.
 */
import type { JobSnapshot, JobState } from '../control/command-types.js';
import { parseSavedCanvas, type SavedCanvas } from '../control/saved-state.js';

export interface SharedPlaylist {
  name: string;
  stepIndex: number;
  loopCount: number;
}

export interface SharedCanvasState {
  version: 1;
  /** The node that wrote it and the lease epoch it held. */
  node: string;
  epoch: number;
  /** Epoch ms, by the writer's clock. */
  savedAt: number;
  canvas: SavedCanvas;
  /** The playlist driving the canvas and the step it was on. */
  playlist?: SharedPlaylist;
  /** The job that was generating for the canvas; the next owner reports it failed. */
  job?: JobSnapshot;
  /** The last frame published: the next owner numbers on from here and never shows an earlier presentAt. */
  seq: number;
  presentAt: number | null;
}

/** Far above a real entry (a few hundred bytes with a long prompt): a larger value is not read at all. */
export const MAX_STATE_BYTES = 64 * 1024;
/** What GET /api/canvases/:slug shows, as the owner published it: a few kB. */
export const MAX_VIEW_BYTES = 64 * 1024;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** Epoch ms; clocks give fractions. */
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
const isText = (v: unknown, max = 10_000): v is string => typeof v === 'string' && v.length <= max;
const JOB_STATES = new Set<JobState>(['queued', 'generating', 'done', 'cancelled', 'failed']);

function fail(where: string, what: string): never {
  throw new Error(`${where}: ${what}`);
}

function parseJob(v: unknown): JobSnapshot {
  if (!isObject(v)) fail('job', 'is not an object');
  if (!isText(v.id, 100) || v.id === '') fail('job.id', 'is not a job id');
  if (!isText(v.slug, 100)) fail('job.slug', 'is not text');
  if (!isText(v.prompt)) fail('job.prompt', 'is not text');
  if (!isCount(v.count) || !isCount(v.produced)) fail('job', 'has no count of images');
  if (!JOB_STATES.has(v.state as JobState)) fail('job.state', `${JSON.stringify(v.state)} is not a job state`);
  if (!isText(v.createdAt, 40)) fail('job.createdAt', 'is not a time');
  return {
    id: v.id,
    slug: v.slug,
    prompt: v.prompt,
    count: v.count,
    produced: v.produced,
    state: v.state as JobState,
    createdAt: v.createdAt,
    ...(isText(v.reason) && { reason: v.reason }),
    ...(isText(v.endedAt, 40) && { endedAt: v.endedAt }),
  };
}

/** Checks a value read from Redis for canvas `slug`; throws naming the first bad field. */
export function parseSharedCanvasState(text: string, slug: string): SharedCanvasState {
  if (text.length > MAX_STATE_BYTES) fail('state', `is ${text.length} bytes, over ${MAX_STATE_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    fail('state', 'is not JSON');
  }
  if (!isObject(json)) fail('state', 'is not an object');
  if (json.version !== 1) fail('version', `${JSON.stringify(json.version)} is not 1`);
  if (!isText(json.node, 200)) fail('node', 'is not a node id');
  if (!isCount(json.epoch)) fail('epoch', 'is not a lease epoch');
  if (!isTime(json.savedAt)) fail('savedAt', 'is not a time');
  if (!isCount(json.seq)) fail('seq', 'is not a frame number');
  if (json.presentAt !== null && !isTime(json.presentAt)) fail('presentAt', 'is neither null nor a time');
  const canvas = parseSavedCanvas(json.canvas, 'canvas');
  let playlist: SharedPlaylist | undefined;
  if (json.playlist !== undefined) {
    const p = json.playlist;
    if (!isObject(p) || !isText(p.name, 200) || !isCount(p.stepIndex) || !isCount(p.loopCount))
      fail('playlist', 'is not a playlist name and step');
    playlist = { name: p.name, stepIndex: p.stepIndex, loopCount: p.loopCount };
  }
  const job = json.job === undefined ? undefined : parseJob(json.job);
  if (job && job.slug !== slug) fail('job.slug', `is "${job.slug}", not "${slug}"`);
  return {
    version: 1,
    node: json.node,
    epoch: json.epoch,
    savedAt: json.savedAt,
    canvas,
    ...(playlist && { playlist }),
    ...(job && { job }),
    seq: json.seq,
    presentAt: json.presentAt,
  };
}

/** The owner's view of a canvas as another node shows it; `producedBy` and `sharedAt` say whose and when. */
export type SharedView = Record<string, unknown> & { slug: string; state: string; producedBy: string; sharedAt: string };

/** Checks a published view; throws naming what is wrong. */
export function parseSharedView(text: string, slug: string): SharedView {
  if (text.length > MAX_VIEW_BYTES) fail('view', `is ${text.length} bytes, over ${MAX_VIEW_BYTES}`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    fail('view', 'is not JSON');
  }
  if (!isObject(json)) fail('view', 'is not an object');
  if (json.slug !== slug) fail('view.slug', `is ${JSON.stringify(json.slug)}, not "${slug}"`);
  if (!isText(json.state, 20)) fail('view.state', 'is not a canvas state');
  if (!isText(json.producedBy, 200)) fail('view.producedBy', 'is not a node id');
  if (!isText(json.sharedAt, 40)) fail('view.sharedAt', 'is not a time');
  return json as SharedView;
}
