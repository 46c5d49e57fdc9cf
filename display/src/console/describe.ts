import {
  CanvasState,
  JobState,
  SourceState,
  type CanvasInfo,
  type CommandOrigin,
  type JobInfo,
  type PlaylistStatus,
  type ServerEvent,
  type SourceInfo,
} from './api-types.js';

/**
 * Plain words for what the API reports, for a technician reading a phone in a dark room. Pure:
 * nothing here touches the DOM, so the wording is tested in Node.
 */

/** How a line or badge is coloured. */
export const Tone = {
  Info: 'info',
  Good: 'good',
  Warn: 'warn',
  Bad: 'bad',
} as const;
export type Tone = (typeof Tone)[keyof typeof Tone];

export interface Words {
  text: string;
  tone: Tone;
}

/** A state a newer server added: shown as its own name rather than breaking the page. */
function unknownState(value: never): string {
  return String(value);
}

export function canvasStateWords(state: CanvasState): Words {
  switch (state) {
    case CanvasState.Starting:
      return { text: 'Starting', tone: Tone.Info };
    case CanvasState.Streaming:
      return { text: 'Streaming', tone: Tone.Good };
    case CanvasState.Holding:
      return { text: 'Holding the last frame', tone: Tone.Info };
    case CanvasState.Paused:
      return { text: 'Paused', tone: Tone.Warn };
    case CanvasState.Closed:
      return { text: 'Stopped', tone: Tone.Bad };
    default:
      return { text: unknownState(state), tone: Tone.Info };
  }
}

const detail = (source: SourceInfo, key: string): unknown => source.details?.[key];
const onFallback = (source: SourceInfo): boolean => (detail(source, 'fallback') as { active?: unknown } | undefined)?.active === true;

/**
 * The card's badge: the canvas's state, unless its source is in trouble. A wall on its fallback
 * folder keeps publishing frames, but it is not showing what it was set up for, so it never
 * reads as a green "Streaming".
 */
export function canvasBadge(canvas: Pick<CanvasInfo, 'state' | 'source'>): Words {
  const words = canvasStateWords(canvas.state);
  if (canvas.state === CanvasState.Paused || canvas.state === CanvasState.Closed) return words;
  const { state } = canvas.source;
  if (state !== SourceState.Degraded && state !== SourceState.Failed) return words;
  const tone = state === SourceState.Failed ? Tone.Bad : Tone.Warn;
  if (onFallback(canvas.source)) return { text: 'Degraded: showing the fallback folder', tone };
  if (canvas.state === CanvasState.Starting) return { text: 'Not streaming: nothing to show', tone: Tone.Bad };
  return { text: 'Degraded: holding the last frame', tone };
}
const text = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);
const quoted = (s: string, max = 120) => `“${s.length > max ? `${s.slice(0, max - 1)}…` : s}”`;

/** What the canvas is showing, from its source: "Folder /srv/art (12 images, shuffled)". */
export function sourceWords(source: SourceInfo): string {
  switch (source.kind) {
    case 'folder': {
      const path = text(detail(source, 'path'));
      const images = detail(source, 'images');
      const facts = [
        typeof images === 'number' ? `${images} image${images === 1 ? '' : 's'}` : undefined,
        detail(source, 'order') === 'shuffle' ? 'shuffled' : undefined,
      ].filter(Boolean);
      return `Folder${path ? ` ${path}` : ''}${facts.length > 0 ? ` (${facts.join(', ')})` : ''}`;
    }
    case 'inference': {
      const prompt = text(detail(source, 'prompt'));
      return prompt ? `Generating ${quoted(prompt)}` : 'Generating images';
    }
    case 'still':
      return 'A still image';
    case 'playlist': {
      const name = text(detail(source, 'playlist')) ?? text(detail(source, 'name'));
      return name ? `Playlist ${quoted(name)}` : 'A playlist';
    }
    default:
      return source.kind;
  }
}

/** What is wrong with the source, when something is, and what to do about it. */
export function sourceTrouble(source: SourceInfo): (Words & { hint?: string }) | undefined {
  const reason = text(source.reason);
  const hint = text(source.hint);
  const withHint = (w: Words) => (hint ? { ...w, hint } : w);
  const meanwhile = onFallback(source) ? ' (showing the fallback folder meanwhile)' : '';
  switch (source.state) {
    case SourceState.Ok:
      return undefined;
    case SourceState.Waiting:
      return withHint({ text: `Waiting: ${reason ?? 'nothing to show yet'}`, tone: Tone.Info });
    case SourceState.Degraded:
      return withHint({ text: `Trouble: ${reason ?? 'the source is not working'}${meanwhile}`, tone: Tone.Warn });
    case SourceState.Failed:
      return withHint({ text: `Failed: ${reason ?? 'the source stopped'}${meanwhile}`, tone: Tone.Bad });
    default:
      return withHint({ text: `${unknownState(source.state)}${reason ? `: ${reason}` : ''}`, tone: Tone.Warn });
  }
}

export function isJobRunning(job: JobInfo): boolean {
  switch (job.state) {
    case JobState.Queued:
    case JobState.Generating:
      return true;
    case JobState.Done:
    case JobState.Cancelled:
    case JobState.Failed:
      return false;
    default:
      unknownState(job.state);
      return false;
  }
}

/** A job's progress: "Generating 2/4", "Done: 4 frames shown", "Failed: <reason>". */
export function jobWords(job: JobInfo): Words {
  switch (job.state) {
    case JobState.Queued:
      return { text: 'Queued', tone: Tone.Info };
    case JobState.Generating:
      return { text: `Generating ${job.produced}/${job.count}`, tone: Tone.Info };
    case JobState.Done:
      return { text: `Done: ${job.count} frame${job.count === 1 ? '' : 's'} shown`, tone: Tone.Good };
    case JobState.Cancelled:
      return { text: `Cancelled${job.reason ? `: ${job.reason}` : ''}`, tone: Tone.Warn };
    case JobState.Failed:
      return { text: `Failed${job.reason ? `: ${job.reason}` : ''}`, tone: Tone.Bad };
    default:
      return { text: unknownState(job.state), tone: Tone.Info };
  }
}

const pad = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time HH:MM:SS of an ISO time or epoch ms; '' when unreadable. */
export function clockTime(at: string | number): string {
  const date = new Date(at);
  if (Number.isNaN(date.getTime())) return '';
  return `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** "3 s ago", "5 min ago", "2 h ago". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  return `${Math.round(s / 3600)} h ago`;
}

/** The last frame as "#123 at 12:03:04 (2 s ago)", or "none yet". */
export function lastFrameWords(lastFrame: CanvasInfo['lastFrame'], now: number): string {
  if (!lastFrame) return 'none yet';
  const at = Date.parse(lastFrame.timestamp);
  const when = Number.isNaN(at) ? '' : ` at ${clockTime(at)} (${ago(now - at)})`;
  return `#${lastFrame.seq}${when}`;
}

const COMMANDS: Record<string, string> = {
  prompt: 'New prompt',
  image: 'Still image pushed',
  source: 'Source changed',
  pause: 'Paused',
  resume: 'Resumed',
  next: 'Skipped to the next frame',
  playlist: 'Playlist started',
  'playlist-stop': 'Playlist stopped',
  'cancel-job': 'Job cancelled',
};

const SOURCE_KINDS: Record<string, string> = {
  folder: 'a folder',
  inference: 'generated images',
  still: 'a still image',
  playlist: 'a playlist',
};

/** Where a running playlist is: "“evening-show” step 2/4: prompt "a harbour" for 2m". */
export function playlistWords(status: PlaylistStatus): string {
  const step = Number.isInteger(status.stepIndex) && status.stepCount > 0 ? ` step ${status.stepIndex + 1}/${status.stepCount}` : '';
  return `${quoted(status.playlist)}${step}${status.step ? `: ${status.step}` : ''}`;
}

/**
 * One line of the event feed for an event from `/api/events`, or undefined for events that
 * would only add noise there (job progress between its states, a canvas flickering between
 * streaming and holding, the hello): the cards show those.
 *
 * @example
 * eventWords({ type: 'command', slug: 'lobby', command: 'pause', origin: { via: 'osc' } }) // { text: 'lobby: Paused (via OSC)', tone: 'info' }
 */
export function eventWords(event: ServerEvent, previousJobState?: JobState): Words | undefined {
  switch (event.type) {
    case 'hello':
      return undefined;
    case 'canvas':
      if (event.source !== undefined)
        return { text: `${event.slug}: now showing ${SOURCE_KINDS[event.source] ?? event.source}`, tone: Tone.Info };
      // Pause and resume come as commands; only what no command says is worth a line.
      if (event.state === CanvasState.Closed || event.state === CanvasState.Starting) {
        const words = canvasStateWords(event.state);
        return { text: `${event.slug}: ${words.text.toLowerCase()}`, tone: words.tone };
      }
      return undefined;
    case 'command': {
      const what = COMMANDS[event.command] ?? event.command;
      const prompt = text(event.detail?.prompt);
      const name = text(event.detail?.name);
      const kind = text(event.detail?.type);
      const extra = prompt ? ` ${quoted(prompt, 80)}` : name ? ` ${quoted(name)}` : kind ? ` to ${SOURCE_KINDS[kind] ?? kind}` : '';
      return { text: `${event.slug}: ${what}${extra}${originWords(event.origin)}`, tone: Tone.Info };
    }
    case 'job': {
      const { job } = event;
      // A new job's "queued" follows its prompt command, which has a line already.
      if (previousJobState === job.state || (previousJobState === undefined && job.state === JobState.Queued)) return undefined;
      const words = jobWords(job);
      return {
        text: `${job.slug}: ${quoted(job.prompt, 60)} ${words.text.charAt(0).toLowerCase()}${words.text.slice(1)}`,
        tone: words.tone,
      };
    }
    case 'playlist':
      return playlistEventWords(event);
    default:
      return undefined;
  }
}

function playlistEventWords(event: Extract<ServerEvent, { type: 'playlist' }>): Words | undefined {
  const d = event.detail ?? {};
  const name = quoted(event.name);
  const slugs = event.slug ?? (Array.isArray(d.slugs) ? d.slugs.filter((s) => typeof s === 'string').join(', ') : '');
  const on = slugs ? ` on ${slugs}` : '';
  switch (event.event) {
    case 'started': {
      // One started by a command has the command's line already; one started by its `at:` time has not.
      const origin = d.origin as CommandOrigin | undefined;
      return origin?.via === 'config' ? { text: `Playlist ${name} started on schedule${on}`, tone: Tone.Info } : undefined;
    }
    case 'step-started': {
      const index = typeof d.stepIndex === 'number' ? d.stepIndex : -1;
      const count = typeof d.stepCount === 'number' ? d.stepCount : 0;
      return { text: `Playlist ${name}${on}: step ${index + 1}/${count}${text(d.step) ? `, ${text(d.step)}` : ''}`, tone: Tone.Info };
    }
    case 'step-finished':
      return undefined; // the next step-started says it
    case 'ended':
      return { text: `Playlist ${name} ended${on}`, tone: Tone.Info };
    case 'stopped':
      return { text: `Playlist ${name} stopped${on}`, tone: Tone.Info };
    case 'reloaded':
      return { text: `Playlist ${name} reloaded from its changed file${on}`, tone: Tone.Info };
    case 'error': {
      const error = d.error as { message?: unknown; hint?: unknown } | string | undefined;
      const message = typeof error === 'string' ? error : text(error?.message);
      return { text: `Playlist ${name} hit an error${on}${message ? `: ${message}` : ''}`, tone: Tone.Bad };
    }
    case 'file-added':
      return { text: `Playlist ${name} added`, tone: Tone.Info };
    case 'file-changed':
      return { text: `Playlist ${name} changed`, tone: Tone.Info };
    case 'file-removed':
      return { text: `Playlist ${name} removed`, tone: Tone.Info };
    case 'file-invalid': {
      const error = (d.change as { error?: { line?: unknown; column?: unknown } } | undefined)?.error;
      const where =
        typeof error?.line === 'number'
          ? ` at line ${error.line}${typeof error.column === 'number' ? `, column ${error.column}` : ''}`
          : '';
      return { text: `Playlist ${name} has an error in its file${where}; the last good version keeps running`, tone: Tone.Bad };
    }
    default:
      return { text: `Playlist ${name} ${event.event.replace(/-/g, ' ')}${on}`, tone: Tone.Info };
  }
}

function originWords(origin: CommandOrigin | undefined): string {
  if (!origin?.via) return '';
  const via = origin.via === 'osc' || origin.via === 'cli' || origin.via === 'http' ? origin.via.toUpperCase() : origin.via;
  return origin.who ? ` (via ${via}, ${origin.who})` : ` (via ${via})`;
}
