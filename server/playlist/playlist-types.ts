/**
 * What a playlist file means once parsed: the typed form every other playlist module works
 * with. docs/playlists.md describes the YAML that produces it.
 */
import { type ArchiveSelection, describeSelection } from '../archive/archive-selection.js';
import { MAX_SEED } from '../input/fields.js';
import { formatDuration } from './duration.js';

export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
/** Index = Date#getDay(): 'sun' is 0. */
export type Weekday = (typeof WEEKDAYS)[number];

/** How long a step holds the canvas: a time, or a number of frames shown. */
export type Hold = { kind: 'time'; ms: number } | { kind: 'frames'; count: number };

interface StepBase {
  hold: Hold;
  /** 1-based line of the step in its file, for logs and status. */
  line: number;
}

export interface PromptStep extends StepBase {
  type: 'prompt';
  prompt: string;
  negativePrompt?: string;
  /** Start of a reproducible seed walk; absent with seedWalk false: random seeds. */
  seed?: number;
  /** Every pass of the step continues the walk with new seeds (see seedForPass). */
  seedWalk: boolean;
  steps?: number;
  drift?: number;
}

export interface FolderStep extends StepBase {
  type: 'folder';
  /** Absolute: relative paths are resolved against the playlist file's folder. */
  path: string;
  order?: 'name' | 'shuffle';
}

export interface StillStep extends StepBase {
  type: 'still';
  /** Absolute, as for folders. */
  path: string;
  hold: { kind: 'time'; ms: number };
}

export interface PauseStep extends StepBase {
  type: 'pause';
  hold: { kind: 'time'; ms: number };
}

/** Plays frames from the archive as a folder step plays files; the selection is taken when the step starts. */
export interface ArchiveStep extends StepBase {
  type: 'archive';
  selection: ArchiveSelection;
  /** 'name' (the default): oldest first; 'shuffle': a new order every pass. */
  order?: 'name' | 'shuffle';
}

export type PlaylistStep = PromptStep | FolderStep | StillStep | PauseStep | ArchiveStep;

export interface Playlist {
  /** Same rule as a canvas slug; the file is `<name>.yaml`. */
  name: string;
  description?: string;
  /** Canvases a scheduled start drives; a start on one canvas drives only that one. */
  canvases: string[];
  loop: boolean;
  /** Daily start times, "HH:MM" local time, sorted; empty: never starts by itself. */
  at: string[];
  /** Days the `at` times apply to; absent: every day. */
  days?: Weekday[];
  steps: PlaylistStep[];
}

/** Seeds a walk moves on by between two passes of a `seedWalk` step. */
export const SEED_WALK_STRIDE = 10_000;

/**
 * The first seed sent to one canvas for one pass of a prompt step. A fixed `seed` starts every
 * pass at that seed on every canvas (the show repeats exactly). `seedWalk` moves each pass on
 * by SEED_WALK_STRIDE, from `seed` when given, else from a seed derived from the playlist name,
 * the step position and the canvas: every loop shows new images and each canvas its own, yet a
 * restarted show replays the same ones.
 *
 * @example
 * seedForPass({ seed: 42, seedWalk: true }, { playlist: 'evening-show', stepIndex: 0, pass: 2, slug: 'left-canva' }) // 20042
 */
export function seedForPass(
  step: Pick<PromptStep, 'seed' | 'seedWalk'>,
  at: { playlist: string; stepIndex: number; pass: number; slug: string },
): number | undefined {
  if (!step.seedWalk) return step.seed;
  let base = step.seed;
  if (base === undefined) {
    base = 2166136261; // FNV-1a: stable across restarts and machines
    for (const ch of `${at.playlist}#${at.stepIndex}#${at.slug}`) base = Math.imul(base ^ ch.charCodeAt(0), 16777619) >>> 0;
  }
  // Wraps where seeds end (input/fields.ts), so a given seed of any size starts its walk unchanged.
  return (base + at.pass * SEED_WALK_STRIDE) % (MAX_SEED + 1);
}

/** One line a technician reads in a status or log: `prompt "a harbour at night" for 45s`. */
export function summarizeStep(step: PlaylistStep): string {
  const hold = step.hold.kind === 'time' ? `for ${formatDuration(step.hold.ms)}` : `for ${step.hold.count} frames`;
  switch (step.type) {
    case 'prompt': {
      const text = step.prompt.length > 60 ? `${step.prompt.slice(0, 57)}...` : step.prompt;
      return `prompt "${text}" ${hold}`;
    }
    case 'folder':
      return `folder "${step.path}"${step.order ? ` (${step.order})` : ''} ${hold}`;
    case 'still':
      return `still "${step.path}" ${hold}`;
    case 'pause':
      return `pause ${hold}`;
    case 'archive':
      return `archive "${describeSelection(step.selection)}"${step.order ? ` (${step.order})` : ''} ${hold}`;
  }
}
