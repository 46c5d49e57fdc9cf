/**
 * Playlist YAML → a typed Playlist, or a PlaylistError naming the file, the line and the column
 * of each mistake and what is allowed there. Pure: it reads no files (relative step paths are
 * only resolved against the file's folder). docs/playlists.md describes the format.
 */
import path from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { archiveSelectionFields, selectionOf } from '../archive/archive-selection.js';
import { parseArchiveTime } from '../archive/archive-time.js';
import { parseSlug } from '../canvas/slug.js';
import { EaselError } from '../errors.js';
import { folderStepFields, promptStepFields } from '../input/shapes.js';
import { IMAGE_EXTENSIONS } from '../stream/folder-source.js';
import { parseDuration } from './duration.js';
import { WEEKDAYS, type ArchiveStep, type Hold, type Playlist, type PlaylistStep, type Weekday } from './playlist-types.js';
import { createChecker, type Checker, type Entry, type Problem } from './yaml-checker.js';

export const MIN_STEP_MS = 1000;
export const MAX_STEP_MS = 24 * 3_600_000;
export const MAX_FRAMES = 100_000;

export type PlaylistProblem = Problem;

/** An invalid playlist file: the first problem's place in `line`/`column`, all of them in `problems`. */
export class PlaylistError extends EaselError {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly problems: PlaylistProblem[];

  constructor(file: string, problems: PlaylistProblem[]) {
    const first = problems[0]!;
    const more = problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    super(
      'EASEL_ERR_PLAYLIST_INVALID',
      `Invalid playlist "${file}" at line ${first.line}, column ${first.column}: ${first.message}${more}`,
      {
        hint: first.hint,
        details: { file, line: first.line, column: first.column, problems },
      },
    );
    this.file = file;
    this.line = first.line;
    this.column = first.column;
    this.problems = problems;
  }
}

export interface ParsePlaylistOptions {
  /** The file, as shown in messages; relative step paths resolve against its folder. */
  file: string;
  /** The name the playlist must have; default: the file's name without `.yaml`/`.yml`. */
  name?: string;
}

export type ParsedPlaylist = { ok: true; playlist: Playlist } | { ok: false; error: PlaylistError };

const TOP_KEYS = ['name', 'description', 'canvases', 'loop', 'at', 'days', 'steps'];
const KINDS = ['prompt', 'folder', 'still', 'pause', 'archive'] as const;
const STEP_KEYS: Record<(typeof KINDS)[number], string[]> = {
  prompt: ['prompt', 'negativePrompt', 'seed', 'seedWalk', 'steps', 'drift', 'duration', 'frames'],
  folder: ['folder', 'order', 'duration', 'frames'],
  still: ['still', 'duration'],
  pause: ['pause', 'duration'],
  archive: ['archive', 'order', 'duration', 'frames'],
};
const SELECTION_KEYS = ['canvas', 'starred', 'from', 'to'];
const SELECTION_EXAMPLE =
  'archive: { canvas: wall-1, starred: true } or archive: { canvas: wall-1, from: "2026-12-01T20:00", to: "2026-12-01T21:00" }';
const FORMAT_HINT = 'docs/playlists.md describes the playlist format';
export const NAME_HINT =
  'Name playlists like canvases: 1-63 lowercase letters, digits and dashes, not starting with a dash (the file is <name>.yaml)';

/**
 * @example
 * const parsed = parsePlaylist(text, { file: 'config/playlists/evening-show.yaml' });
 * if (!parsed.ok) log.warn({ err: parsed.error }, parsed.error.message);
 */
export function parsePlaylist(text: string, options: ParsePlaylistOptions): ParsedPlaylist {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, keepSourceTokens: true });
  const check = createChecker(doc, lineCounter);
  for (const err of doc.errors) {
    check.problemAt(err.pos[0], `The YAML does not parse: ${err.message}`, 'Check the indentation, quotes and colons around this place');
  }
  let playlist: Playlist | undefined;
  if (doc.errors.length === 0) playlist = readPlaylist(doc, check, options);
  if (check.problems.length > 0 || !playlist) return { ok: false, error: new PlaylistError(options.file, check.sorted()) };
  return { ok: true, playlist };
}

function readPlaylist(doc: Document.Parsed, check: Checker, options: ParsePlaylistOptions): Playlist | undefined {
  const root = check.resolve(doc.contents);
  if (!root || (isScalar(root) && root.value === null)) {
    check.problemAt(0, 'The file is empty', `Write at least "steps:" with one step; ${FORMAT_HINT}`);
    return undefined;
  }
  if (!isMap(root)) {
    check.problem(root, 'The file must be a map of keys (name, canvases, loop, at, days, steps)', FORMAT_HINT);
    return undefined;
  }
  const top = check.entries(root, TOP_KEYS, 'A playlist');
  const expected = options.name ?? path.basename(options.file).replace(/\.ya?ml$/i, '');
  const nameEntry = top.get('name');
  if (nameEntry) {
    const given = check.text(nameEntry.value, '"name"');
    if (given !== undefined && given !== expected) {
      check.problem(
        nameEntry.value,
        `"name" is "${given}" but the playlist is saved as "${expected}"`,
        `Remove the name key, or set it to "${expected}" (a playlist is named by its file)`,
      );
    }
  }
  if (!parseSlug(expected).ok) {
    check.problem(nameEntry?.value ?? root, `Invalid playlist name "${expected}"`, NAME_HINT);
  }
  const description = top.has('description') ? check.text(top.get('description')!.value, '"description"') : undefined;
  const loop = top.has('loop') ? check.bool(top.get('loop')!.value, '"loop"') : false;
  const before = check.problems.length;
  const canvases = readCanvases(check, top.get('canvases'));
  const canvasesOk = check.problems.length === before;
  const at = readTimes(check, top.get('at'));
  const days = readDays(check, top.get('days'));
  if (at.length > 0 && canvases.length === 0 && canvasesOk) {
    check.problem(
      top.get('at')!.key,
      '"at" starts the playlist by itself, but no "canvases" say where',
      'Add canvases: [left-canva, right-canva] (the canvases the show drives)',
    );
  }
  if (days && !top.has('at'))
    check.problem(top.get('days')!.key, '"days" is set without "at"', 'Add at: "18:30" (the start time), or remove days');
  const steps = readSteps(check, top.get('steps'), root, path.dirname(options.file));
  return {
    name: expected,
    ...(description !== undefined && { description }),
    canvases,
    loop: loop ?? false,
    at,
    ...(days && { days }),
    steps,
  };
}

function readCanvases(check: Checker, entry: Entry | undefined): string[] {
  if (!entry) return [];
  const items = check.list(entry.value, '"canvases"', 'canvases: [left-canva, right-canva]', false);
  const out: string[] = [];
  for (const item of items) {
    const slug = check.text(item, 'A canvas');
    if (slug === undefined) continue;
    const parsed = parseSlug(slug);
    if (!parsed.ok) check.problem(item, parsed.reason, 'Use the canvas slug from the display URL: /c/left-canva');
    else if (out.includes(slug)) check.problem(item, `Canvas "${slug}" is listed twice`, 'List each canvas once');
    else out.push(slug);
  }
  return out;
}

function readTimes(check: Checker, entry: Entry | undefined): string[] {
  if (!entry) return [];
  const out: string[] = [];
  for (const item of check.list(entry.value, '"at"', 'at: "18:30" or at: ["10:00", "18:30"]', true)) {
    const hint = 'Write a 24-hour local time in quotes: at: "18:30"';
    const raw = isScalar(item) ? item.value : undefined;
    const match = typeof raw === 'string' ? /^(\d{1,2}):(\d{2})$/.exec(raw.trim()) : null;
    if (!match || Number(match[1]) > 23 || Number(match[2]) > 59) {
      check.problem(item, `"at" must be a time of day like "18:30", not ${check.show(item)}`, hint);
      continue;
    }
    const time = `${match[1]!.padStart(2, '0')}:${match[2]}`;
    if (out.includes(time)) check.problem(item, `Time "${time}" is listed twice`, 'List each start time once');
    else out.push(time);
  }
  return out.sort();
}

function readDays(check: Checker, entry: Entry | undefined): Weekday[] | undefined {
  if (!entry) return undefined;
  const out = new Set<Weekday>();
  for (const item of check.list(entry.value, '"days"', 'days: [fri, sat, sun]', true)) {
    const raw = isScalar(item) && typeof item.value === 'string' ? item.value.trim().toLowerCase() : undefined;
    if (!raw || !(WEEKDAYS as readonly string[]).includes(raw)) {
      check.problem(
        item,
        `"days" holds ${check.show(item)}, which is not a day`,
        'Use mon, tue, wed, thu, fri, sat or sun: days: [fri, sat]',
      );
    } else out.add(raw as Weekday);
  }
  return WEEKDAYS.filter((d) => out.has(d));
}

function readSteps(check: Checker, entry: Entry | undefined, root: Node, baseDir: string): PlaylistStep[] {
  if (!entry) {
    check.problem(
      root,
      'The playlist has no "steps"',
      `Add steps:, a list of prompt, folder, still, pause or archive steps; ${FORMAT_HINT}`,
    );
    return [];
  }
  const items = check.list(entry.value, '"steps"', 'steps:\n  - prompt: "a harbour at night"\n    duration: 45s', false);
  if (items.length === 0 && isSeq(check.resolve(entry.value))) check.problem(entry.value, '"steps" is empty', 'Add at least one step');
  const steps: PlaylistStep[] = [];
  items.forEach((item, i) => {
    const step = readStep(check, item, i + 1, baseDir);
    if (step) steps.push(step);
  });
  return steps;
}

function readStep(check: Checker, node: Node, n: number, baseDir: string): PlaylistStep | undefined {
  const kindHint = 'Start each step with one of prompt:, folder:, still:, pause: or archive:';
  if (!isMap(node)) {
    check.problem(node, `Step ${n} must be a map such as "prompt: ..." with "duration: ...", not ${check.show(node)}`, kindHint);
    return undefined;
  }
  const all = check.entries(node, [], `Step ${n}`, false);
  const present = [...all.keys()].filter((k): k is (typeof KINDS)[number] => (KINDS as readonly string[]).includes(k));
  if (present.length === 0) {
    check.problem(node, `Step ${n} has no kind`, kindHint);
    return undefined;
  }
  const kind = present[0]!;
  if (present.length > 1) {
    check.problem(all.get(present[1]!)!.key, `Step ${n} is both "${kind}" and "${present[1]}"`, 'Put each in a step of its own');
    return undefined;
  }
  const frameless = kind === 'still' || kind === 'pause';
  if (frameless && all.has('frames')) {
    check.problem(
      all.get('frames')!.key,
      `A ${kind} step is held for a duration, not frames`,
      'Write duration: 30s instead (frames count new images, and this step makes none)',
    );
  }
  const keys = check.entries(node, STEP_KEYS[kind], `${kind === 'archive' ? 'An' : 'A'} ${kind} step`, true, frameless ? ['frames'] : []);
  const value = keys.get(kind)!.value;
  if (kind === 'pause' && !(isScalar(value) && (value.value === null || value.value === true))) {
    check.problem(
      value,
      `"pause" takes no value, but has ${check.show(value)}`,
      'Write "- pause:" and put the time on the next line: duration: 30s',
    );
    return undefined;
  }
  const line = check.lineOf(node);
  // A still or pause with frames already has its problem: say nothing more about its hold.
  const hold = frameless && all.has('frames') && !keys.has('duration') ? undefined : readHold(check, keys, node, n, frameless);
  switch (kind) {
    case 'prompt': {
      const f = check.shape(promptStepFields, keys);
      if (!f || !hold) return undefined;
      const { prompt, negativePrompt, seed, steps, drift } = f;
      return {
        type: 'prompt',
        prompt,
        ...(negativePrompt !== undefined && { negativePrompt }),
        ...(seed !== undefined && { seed }),
        seedWalk: f.seedWalk ?? false,
        ...(steps !== undefined && { steps }),
        ...(drift !== undefined && { drift }),
        hold,
        line,
      };
    }
    case 'folder': {
      const folder = check.text(value, '"folder"');
      const f = check.shape(folderStepFields, keys);
      if (folder === undefined || !f || !hold) return undefined;
      return { type: 'folder', path: path.resolve(baseDir, folder), ...(f.order && { order: f.order }), hold, line };
    }
    case 'still': {
      const file = check.text(value, '"still"');
      if (file !== undefined && !IMAGE_EXTENSIONS.has(path.extname(file).toLowerCase())) {
        check.problem(
          value,
          `"still" must name an image file, not "${file}"`,
          'Point it at a .jpg, .png, .webp, .avif, .tif or .gif file (relative to this playlist file)',
        );
        return undefined;
      }
      if (file === undefined || hold?.kind !== 'time') return undefined;
      return { type: 'still', path: path.resolve(baseDir, file), hold, line };
    }
    case 'pause': {
      if (hold?.kind !== 'time') return undefined;
      return { type: 'pause', hold, line };
    }
    case 'archive': {
      const selection = readSelection(check, value);
      const f = check.shape(folderStepFields, keys);
      if (!selection || !f || !hold) return undefined;
      return { type: 'archive', selection, ...(f.order && { order: f.order }), hold, line };
    }
  }
}

/** An archive step's `{ canvas, starred, from, to }`: which archived frames it plays. */
function readSelection(check: Checker, node: Node): ArchiveStep['selection'] | undefined {
  if (!isMap(node)) {
    check.problem(
      node,
      `"archive" must be a map of canvas, starred, from and to, not ${check.show(node)}`,
      `For example: ${SELECTION_EXAMPLE}`,
    );
    return undefined;
  }
  const keys = check.entries(node, SELECTION_KEYS, 'An archive selection');
  if (!keys.has('canvas')) {
    check.problem(node, '"archive" names no canvas', 'Add canvas: wall-1 (the canvas whose archived frames to play)');
    return undefined;
  }
  const written = check.shape(archiveSelectionFields, keys);
  if (!written) return undefined;
  if (written.from !== undefined && written.to !== undefined && parseArchiveTime(written.from)! >= parseArchiveTime(written.to)!) {
    check.problem(
      keys.get('to')!.value,
      `"to" ${check.show(keys.get('to')!.value)} is not after "from" ${check.show(keys.get('from')!.value)}`,
      'Give a "to" time later than the "from" time (both server local time unless they end in Z)',
    );
    return undefined;
  }
  return selectionOf(written);
}

function readHold(check: Checker, keys: Map<string, Entry>, node: Node, n: number, frameless: boolean): Hold | undefined {
  const duration = keys.get('duration');
  const frames = keys.get('frames');
  if (duration && frames) {
    check.problem(
      frames.key,
      `Step ${n} has both "duration" and "frames"`,
      'Keep one: duration: 45s holds for a time, frames: 120 for a number of new images',
    );
    return undefined;
  }
  if (frames) {
    const count = check.int(frames.value, '"frames"', 1, MAX_FRAMES);
    return count === undefined ? undefined : { kind: 'frames', count };
  }
  if (!duration) {
    check.problem(
      node,
      `Step ${n} has no "duration"${frameless ? '' : ' or "frames"'}`,
      frameless ? 'Add duration: 30s' : 'Add duration: 45s (or 2m, or 30 for seconds), or frames: 120',
    );
    return undefined;
  }
  const raw = isScalar(duration.value) ? duration.value.value : undefined;
  const ms = parseDuration(raw);
  const hint = 'Write 45s, 2m, 1h30m, or a number of seconds; between 1s and 24h';
  if (ms === undefined)
    check.problem(duration.value, `"duration" must be a time like "45s", "2m" or 30, not ${check.show(duration.value)}`, hint);
  else if (ms < MIN_STEP_MS || ms > MAX_STEP_MS)
    check.problem(duration.value, `"duration" ${check.show(duration.value)} is out of range`, hint);
  else return { kind: 'time', ms };
  return undefined;
}
