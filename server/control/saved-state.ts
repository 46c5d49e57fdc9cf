/**
 * What the state file holds: what operators changed at run time (sources — archive selections
 * included —, prompts, pauses, held stills, running playlists), so the wall comes back as it was
 * after a restart.
 */
import type { ArchiveSelection } from '../archive/archive-selection.js';
import type { RuntimeSource } from '../canvas/registry.js';
import { SLUG_PATTERN } from '../canvas/slug.js';

export interface SavedHold {
  /** The still's image id and its file in the stills folder next to the state file. */
  imageId: string;
  file: string;
  /** Wall-clock epoch ms the hold ends; null: until the next command. */
  until: number | null;
}

export interface SavedCanvas {
  /** Set only when changed at run time; absent: the config's source. */
  source?: RuntimeSource;
  /** Paused by an operator (a playlist's own pause step is redone by the playlist). */
  paused?: boolean;
  hold?: SavedHold;
}

export interface SavedPlaylist {
  name: string;
  slugs: string[];
  stepIndex: number;
  loopCount: number;
}

export interface SavedState {
  version: 1;
  savedAt: string;
  canvases: Record<string, SavedCanvas>;
  playlists: SavedPlaylist[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
/** Files in the stills folder are plain names: a saved state never points anywhere else. */
const PLAIN_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,200}$/;

function fail(where: string, what: string): never {
  throw new Error(`${where}: ${what}`);
}

function parseSource(v: unknown, at: string): RuntimeSource {
  if (!isObject(v)) fail(at, 'is not an object');
  const str = (k: string) => (typeof v[k] === 'string' ? (v[k] as string) : fail(`${at}.${k}`, 'is not text'));
  if (v.type === 'folder') return { type: 'folder', path: str('path'), order: v.order === 'shuffle' ? 'shuffle' : 'name' };
  if (v.type === 'still') return { type: 'still', path: str('path') };
  if (v.type === 'inference') {
    const num = (k: string, ok: (n: number) => boolean) =>
      typeof v[k] === 'number' && ok(v[k] as number) ? (v[k] as number) : fail(`${at}.${k}`, 'is out of range');
    return {
      type: 'inference',
      prompt: str('prompt'),
      negativePrompt: str('negativePrompt'),
      steps: num('steps', (n) => isCount(n)),
      ...(v.seed !== undefined ? { seed: num('seed', (n) => isCount(n)) } : {}),
      drift: num('drift', (n) => n >= 0 && n <= 1),
      fallback: str('fallback'),
    };
  }
  if (v.type === 'archive')
    return {
      type: 'archive',
      selection: parseSelection(v.selection, `${at}.selection`),
      order: v.order === 'shuffle' ? 'shuffle' : 'name',
    };
  return fail(`${at}.type`, `${JSON.stringify(v.type)} is not folder, inference, still or archive`);
}

function parseSelection(v: unknown, at: string): ArchiveSelection {
  if (!isObject(v)) fail(at, 'is not an object');
  if (typeof v.canvas !== 'string' || !SLUG_PATTERN.test(v.canvas)) fail(`${at}.canvas`, 'is not a canvas slug');
  if (v.starred !== undefined && typeof v.starred !== 'boolean') fail(`${at}.starred`, 'is not true or false');
  for (const k of ['from', 'to'] as const) if (v[k] !== undefined && !isCount(v[k])) fail(`${at}.${k}`, 'is not a time');
  return {
    canvas: v.canvas,
    ...(v.starred !== undefined && { starred: v.starred }),
    ...(v.from !== undefined && { from: v.from as number }),
    ...(v.to !== undefined && { to: v.to as number }),
  };
}

function parseHold(v: unknown, at: string): SavedHold {
  if (!isObject(v)) fail(at, 'is not an object');
  if (typeof v.imageId !== 'string' || !PLAIN_NAME.test(v.imageId)) fail(`${at}.imageId`, 'is not an image id');
  if (typeof v.file !== 'string' || !PLAIN_NAME.test(v.file)) fail(`${at}.file`, 'is not a plain file name');
  if (v.until !== null && !isCount(v.until)) fail(`${at}.until`, 'is neither null nor a time');
  return { imageId: v.imageId, file: v.file, until: v.until };
}

/** One canvas's saved state (the state file's entry, or a cluster's shared one); throws naming the first bad field. */
export function parseSavedCanvas(c: unknown, at: string): SavedCanvas {
  if (!isObject(c)) fail(at, 'is not an object');
  return {
    ...(c.source !== undefined && { source: parseSource(c.source, `${at}.source`) }),
    ...(c.paused === true && { paused: true }),
    ...(c.hold !== undefined && { hold: parseHold(c.hold, `${at}.hold`) }),
  };
}

/** Checks a parsed state file; throws naming the first bad field (the file is then set aside). */
export function parseSavedState(json: unknown): SavedState {
  if (!isObject(json)) fail('state', 'is not an object');
  if (json.version !== 1) fail('version', `${JSON.stringify(json.version)} is not 1`);
  if (!isObject(json.canvases)) fail('canvases', 'is not an object');
  if (!Array.isArray(json.playlists)) fail('playlists', 'is not a list');
  const canvases: Record<string, SavedCanvas> = {};
  for (const [slug, c] of Object.entries(json.canvases)) canvases[slug] = parseSavedCanvas(c, `canvases.${slug}`);
  const playlists = json.playlists.map((p: unknown, i): SavedPlaylist => {
    const at = `playlists[${i}]`;
    if (!isObject(p)) fail(at, 'is not an object');
    if (typeof p.name !== 'string') fail(`${at}.name`, 'is not text');
    if (!Array.isArray(p.slugs) || !p.slugs.every((s) => typeof s === 'string')) fail(`${at}.slugs`, 'is not a list of slugs');
    if (!isCount(p.stepIndex) || !isCount(p.loopCount)) fail(at, 'has no step position');
    return { name: p.name, slugs: p.slugs as string[], stepIndex: p.stepIndex, loopCount: p.loopCount };
  });
  return { version: 1, savedAt: typeof json.savedAt === 'string' ? json.savedAt : '', canvases, playlists };
}
