/**
 * OSC address → canvas command, as pure data. The listener (osc-listener.ts) owns the socket;
 * this module only decides what one decoded message means, so every rule is testable with
 * plain values.
 *
 * Addresses (case-sensitive, as OSC is):
 *   /easel/<slug>/prompt  "text"     new prompt (every argument, joined with spaces)
 *   /easel/<slug>/next | pause | resume
 *   /easel/<slug>/playlist "name"    start a playlist
 *   /easel/<slug>/playlist/stop      stop it
 */
import { parseSlug } from '../canvas/slug.js';
import { MAX_PROMPT } from '../input/fields.js';

export type OscAction =
  | { kind: 'prompt'; slug: string; prompt: string }
  | { kind: 'next' | 'pause' | 'resume' | 'playlist-stop'; slug: string }
  | { kind: 'playlist'; slug: string; name: string };

/**
 * `action: null` is a well-formed message that asks for nothing: the release of a button
 * (a trigger with 0 or false), which TouchOSC, Max toggles and TouchDesigner CHOPs all send.
 */
export type OscRoute = { ok: true; action: OscAction | null } | { ok: false; reason: string };

export interface OscRouteOptions {
  /** Longest prompt accepted, in characters; default: the one rule for prompts (input/fields.ts). */
  maxPromptLength?: number;
}

export const OSC_ADDRESSES = ['prompt', 'next', 'pause', 'resume', 'playlist', 'playlist/stop'] as const;
const MAX_PLAYLIST_NAME = 255;
const KNOWN = `Easel listens to /easel/<slug>/${OSC_ADDRESSES.join(', ')}`;

/**
 * Decides what a decoded OSC message asks for. Never throws: anything it does not understand
 * comes back as `{ ok: false, reason }`, a sentence for the log.
 *
 * @example
 * routeOscMessage('/easel/left-canva/prompt', ['a red boat'])
 * // { ok: true, action: { kind: 'prompt', slug: 'left-canva', prompt: 'a red boat' } }
 * routeOscMessage('/easel/left-canva/next', [0])
 * // { ok: true, action: null }   (a button release)
 */
export function routeOscMessage(address: string, args: readonly unknown[], options: OscRouteOptions = {}): OscRoute {
  const maxPromptLength = options.maxPromptLength ?? MAX_PROMPT;
  const parts = address.split('/');
  if (parts.length < 4 || parts[0] !== '' || parts[1] !== 'easel') {
    return { ok: false, reason: `Unknown OSC address "${shorten(address)}": ${KNOWN}` };
  }
  const slugCheck = parseSlug(parts[2]!);
  if (!slugCheck.ok) return { ok: false, reason: slugCheck.reason };
  const slug = slugCheck.slug;
  const verb = parts.slice(3).join('/');

  switch (verb) {
    case 'prompt': {
      const prompt = promptFrom(args);
      if (typeof prompt !== 'string') return { ok: false, reason: `Cannot use ${address}: ${prompt.error}` };
      if (prompt.length > maxPromptLength) {
        return {
          ok: false,
          reason: `Cannot use ${address}: the prompt is ${prompt.length} characters long, the most is ${maxPromptLength}`,
        };
      }
      return { ok: true, action: { kind: 'prompt', slug, prompt } };
    }
    case 'next':
    case 'pause':
    case 'resume':
      return { ok: true, action: isRelease(args) ? null : { kind: verb, slug } };
    case 'playlist/stop':
      return { ok: true, action: isRelease(args) ? null : { kind: 'playlist-stop', slug } };
    case 'playlist': {
      const name = args[0];
      if (typeof name !== 'string' || name.trim() === '') {
        return {
          ok: false,
          reason: `Cannot use ${address}: expected the playlist name as a string argument but received ${describe(args)}`,
        };
      }
      if (name.length > MAX_PLAYLIST_NAME) {
        return {
          ok: false,
          reason: `Cannot use ${address}: the playlist name is ${name.length} characters long, the most is ${MAX_PLAYLIST_NAME}`,
        };
      }
      return { ok: true, action: { kind: 'playlist', slug, name: name.trim() } };
    }
    default:
      return { ok: false, reason: `Unknown OSC address "${shorten(address)}": ${KNOWN}` };
  }
}

/**
 * Max/MSP splits an unquoted message into one argument per word (`prompt a red boat` arrives as
 * "a", "red", "boat"; `3 boats` as 3, "boats"), so every argument is part of the prompt.
 * TouchDesigner, QLab and quoted Max messages send a single string, which this also covers.
 */
function promptFrom(args: readonly unknown[]): string | { error: string } {
  const words: string[] = [];
  for (const arg of args) {
    if (typeof arg === 'string') words.push(arg);
    else if (typeof arg === 'number' && Number.isFinite(arg)) words.push(formatNumber(arg));
    else return { error: `the prompt arguments must be strings or numbers but received ${describe(args)}` };
  }
  const prompt = words.join(' ').trim();
  if (prompt === '') return { error: `expected the prompt as a string argument but received ${describe(args)}` };
  return prompt;
}

/** OSC floats are 32-bit: 0.1 arrives as 0.10000000149011612, shown here as 0.1. */
function formatNumber(n: number): string {
  return Number.isInteger(n) ? String(n) : String(Number(n.toPrecision(7)));
}

/** A trigger whose first argument is 0 or false is a button being let go, not a press. */
function isRelease(args: readonly unknown[]): boolean {
  const first = args[0];
  return first === 0 || first === false;
}

function describe(args: readonly unknown[]): string {
  if (args.length === 0) return 'no arguments';
  const types = args.map((a) => (a === null ? 'nil' : Buffer.isBuffer(a) ? 'blob' : typeof a));
  return `${args.length} argument${args.length === 1 ? '' : 's'} (${types.join(', ')})`;
}

function shorten(text: string): string {
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}
