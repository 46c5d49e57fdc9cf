/**
 * The operator API as the console reads it (README "Operator API"). Everything here comes over
 * the wire from a server that may be newer or older than this page, so the console reads these
 * shapes defensively: an unknown state is shown as its name, never a crash.
 */

/** What a canvas is doing (server/canvas/canvas.ts CanvasState). */
export const CanvasState = {
  Starting: 'starting',
  Streaming: 'streaming',
  /** No new frame was ready at the last slot: the screen keeps the one it has. */
  Holding: 'holding',
  Paused: 'paused',
  Closed: 'closed',
} as const;
export type CanvasState = (typeof CanvasState)[keyof typeof CanvasState];

/** How a canvas's source is faring (server/stream/source.ts SourceStatus). */
export const SourceState = {
  Ok: 'ok',
  Waiting: 'waiting',
  Degraded: 'degraded',
  Failed: 'failed',
} as const;
export type SourceState = (typeof SourceState)[keyof typeof SourceState];

/** A generation job's progress, as `/api/events` reports it. */
export const JobState = {
  Queued: 'queued',
  Generating: 'generating',
  Done: 'done',
  Cancelled: 'cancelled',
  Failed: 'failed',
} as const;
export type JobState = (typeof JobState)[keyof typeof JobState];

export interface SourceInfo {
  /** 'folder', 'inference', 'still', 'playlist', ... */
  kind: string;
  state: SourceState;
  code?: string;
  reason?: string;
  hint?: string;
  details?: Record<string, unknown>;
}

export interface JobInfo {
  id: string;
  slug: string;
  prompt: string;
  count: number;
  produced: number;
  state: JobState;
  reason?: string;
  createdAt: string;
  endedAt?: string;
}

/** One entry of `GET /api/canvases`. */
export interface CanvasInfo {
  slug: string;
  state: CanvasState;
  fps: number;
  width?: number;
  height?: number;
  source: SourceInfo;
  displays: number;
  holding?: { until: string | null } | null;
  lastFrame: { seq: number; imageId: string; timestamp: string; source: string } | null;
  /** The job running on the canvas; null when none (absent from the events stream's hello). */
  job?: JobInfo | null;
  /** The playlist driving the canvas; null when none (absent from the events stream's hello). */
  playlist?: PlaylistStatus | null;
}

/** Where a running playlist is (server/playlist/playlist-runner.ts PlaylistRunnerStatus). */
export interface PlaylistStatus {
  playlist: string;
  slugs?: string[];
  state?: string;
  stepIndex: number;
  stepCount: number;
  /** The step in words: `prompt "a harbour at night" for 45s`. */
  step?: string;
  stepEndsAt?: string;
  loopCount?: number;
}

/** An entry of `GET /api/playlists`: its name, and whether its file is good. */
export interface PlaylistInfo {
  name: string;
  /** 'error' while the file is broken (the last good version, if any, still runs). */
  status?: string;
  [more: string]: unknown;
}

export interface CommandOrigin {
  via: string;
  who?: string;
}

/** The messages of `GET /api/events`, by their `event:` name. */
export type ServerEvent =
  | { type: 'hello'; canvases: CanvasInfo[] }
  | { type: 'canvas'; slug: string; state?: CanvasState; source?: string; removed?: string }
  | { type: 'command'; slug: string; command: string; origin?: CommandOrigin; detail?: Record<string, unknown> }
  | { type: 'job'; job: JobInfo }
  | { type: 'playlist'; slug?: string; name: string; event: string; detail?: Record<string, unknown> };

export type ServerEventType = ServerEvent['type'];
export const SERVER_EVENT_TYPES: readonly ServerEventType[] = ['hello', 'canvas', 'command', 'job', 'playlist'];

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * One SSE message as a typed event, or undefined when it is not one the console understands
 * (so a newer server's extra events are skipped, not shown as garbage).
 *
 * @example
 * parseServerEvent('job', '{"type":"job","job":{"id":"j1","slug":"a","state":"done",...}}') // { type: 'job', job: {...} }
 */
export function parseServerEvent(type: string, data: string): ServerEvent | undefined {
  let value: unknown;
  try {
    value = JSON.parse(data);
  } catch {
    return undefined;
  }
  if (!isObject(value)) return undefined;
  switch (type) {
    case 'hello':
      return Array.isArray(value.canvases) ? { type, canvases: value.canvases.filter(isCanvasInfo) } : undefined;
    case 'canvas':
      return typeof value.slug === 'string' ? { ...(value as object), type, slug: value.slug } : undefined;
    case 'command':
      return typeof value.slug === 'string' && typeof value.command === 'string'
        ? { ...(value as object), type, slug: value.slug, command: value.command }
        : undefined;
    case 'job':
      return isJobInfo(value.job) ? { type, job: value.job } : undefined;
    case 'playlist':
      return typeof value.name === 'string' && typeof value.event === 'string'
        ? { ...(value as object), type, name: value.name, event: value.event }
        : undefined;
    default:
      return undefined;
  }
}

export function isCanvasInfo(value: unknown): value is CanvasInfo {
  return (
    isObject(value) &&
    typeof value.slug === 'string' &&
    typeof value.state === 'string' &&
    isObject(value.source) &&
    typeof value.source.kind === 'string'
  );
}

export function isJobInfo(value: unknown): value is JobInfo {
  return (
    isObject(value) &&
    typeof value.id === 'string' &&
    typeof value.slug === 'string' &&
    typeof value.state === 'string' &&
    typeof value.count === 'number'
  );
}

/**
 * The body of `GET /api/playlists` as a list, whichever shape the server chose: an array of
 * playlists (or of names), or `{ playlists: [...] }`.
 */
export function playlistList(body: unknown): PlaylistInfo[] {
  const list = Array.isArray(body) ? body : isObject(body) && Array.isArray(body.playlists) ? body.playlists : [];
  return list
    .map((entry: unknown): PlaylistInfo | undefined =>
      typeof entry === 'string' ? { name: entry } : isObject(entry) && typeof entry.name === 'string' ? (entry as PlaylistInfo) : undefined,
    )
    .filter((p): p is PlaylistInfo => p !== undefined);
}
