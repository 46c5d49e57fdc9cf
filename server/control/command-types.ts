/**
 * The one set of operator commands every control surface goes through: the HTTP API, OSC,
 * playlists and the CLI (via HTTP). Each command names where it came from, for the log and the
 * event feed. Commands throw EaselError with a code and hint when they cannot be carried out.
 */
import type { CanvasSnapshot } from '../canvas/canvas.js';
import type { PromptCommand, SourceCommand } from '../input/shapes.js';

export interface CommandOrigin {
  via: 'http' | 'osc' | 'playlist' | 'cli' | 'config';
  /** Client address, playlist name, OSC sender... never a token. */
  who?: string;
  /** A playlist's command: the 1-based step it is for (generated images carry it into the archive). */
  step?: number;
  /** An archive entry shown again (`POST /api/archive/:id/show`): the archive has it already and keeps no copy. */
  archiveId?: string;
}

/** Their shapes and rules live in input/shapes.ts, shared with the config and playlists. */
export type { PromptCommand, SourceCommand } from '../input/shapes.js';

export type JobState = 'queued' | 'generating' | 'done' | 'cancelled' | 'failed';

export interface JobSnapshot {
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

/** The commands as the node producing the canvas carries them out: pause, next... at once. */
export interface LocalCanvasCommands {
  list(): CanvasSnapshot[];
  /** Throws EASEL_ERR_NOT_FOUND for an unknown canvas. */
  get(slug: string): CanvasSnapshot;
  /** Generates for a new prompt (switching a folder canvas to inference); returns the job. */
  setPrompt(slug: string, command: PromptCommand, origin: CommandOrigin): Promise<JobSnapshot>;
  /** Shows an image next and holds it for holdMs (Infinity: until the next command). */
  showStill(slug: string, image: Buffer, holdMs: number, origin: CommandOrigin): Promise<{ imageId: string }>;
  setSource(slug: string, source: SourceCommand, origin: CommandOrigin): Promise<void>;
  pause(slug: string, origin: CommandOrigin): void;
  resume(slug: string, origin: CommandOrigin): void;
  next(slug: string, origin: CommandOrigin): void;
  startPlaylist(slug: string, name: string, origin: CommandOrigin): Promise<void>;
  stopPlaylist(slug: string, origin: CommandOrigin): void;
  cancelJob(id: string, origin: CommandOrigin): JobSnapshot;
  job(id: string): JobSnapshot;
}

/** A command another node may carry out (cluster mode) answers later: a promise of what it returns here. */
type MaybeRemote<F> = F extends (...args: infer A) => infer R ? (...args: A) => R | Promise<Awaited<R>> : never;

/**
 * The commands as every surface calls them. In cluster mode a command on a canvas another node
 * produces is carried out there (server/cluster/routed-commands.ts), so any of them may answer
 * with a promise: callers await them. `list` and `get` are this node's view, always at once.
 */
export type CanvasCommands = Pick<LocalCanvasCommands, 'list' | 'get'> & {
  [K in Exclude<keyof LocalCanvasCommands, 'list' | 'get'>]: MaybeRemote<LocalCanvasCommands[K]>;
};
