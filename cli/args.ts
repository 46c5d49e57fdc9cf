/**
 * The `easel` command line, read into one typed command. Pure: the environment comes in as a
 * plain object, and every mistake is a UsageError whose message is fit for the terminal.
 */
import { parseArgs } from 'node:util';
import { parseArchiveTime } from '../server/archive/archive-time.js';
import { parseSlug } from '../server/canvas/slug.js';

export const DEFAULT_SERVER = 'http://localhost:8000';

export const USAGE = `Usage: easel <command> [options]

Commands:
  status [SLUG]                      every canvas (or one, with how each of its screens keeps time):
                                     state, source, displays, last frame
  prompt SLUG "text" [--seed N] [--steps N]
                                     generate from a new prompt on that canvas
  next SLUG                          show the next frame now
  pause SLUG                         hold the current frame
  resume SLUG                        go on streaming
  playlist SLUG NAME                 start the playlist NAME on that canvas
  playlist SLUG --stop               stop it
  remove SLUG                        remove a canvas a display created (declared ones stay)
  timelapse --canvas SLUG --from TIME --to TIME [--fps 12] [--width W] [--archive DIR] OUT.mp4
                                     make an H.264 video of the canvas's archived frames made in
                                     [from, to), oldest first, with ffmpeg; reads the archive
                                     folder, so the server need not run. TIME: 2026-12-01T18:00
                                     (server local time), ...T18:00Z (UTC) or 2026-12-01

Options:
  --server URL   the Easel server (default: $EASEL_URL, else ${DEFAULT_SERVER})
  --json         status: print the API's JSON instead of a table
  --archive DIR  timelapse: the archive folder (default: the configured archive.dir, ./archive)
  -h, --help     show this help

Environment:
  EASEL_URL              the server, when --server is not given
  EASEL_OPERATOR_TOKEN   the operator token, sent as "Authorization: Bearer ..."`;

export type CliCommand =
  | { name: 'help' }
  | { name: 'status'; slug?: string; json: boolean }
  | { name: 'prompt'; slug: string; prompt: string; seed?: number; steps?: number }
  | { name: 'next' | 'pause' | 'resume' | 'remove'; slug: string }
  | { name: 'playlist'; slug: string; playlist: string }
  | { name: 'playlist-stop'; slug: string }
  | {
      name: 'timelapse';
      canvas: string;
      /** Epoch ms. */
      from: number;
      to: number;
      fps: number;
      width?: number;
      /** Absent: the configured archive.dir. */
      archive?: string;
      out: string;
    };

export interface CliInvocation {
  command: CliCommand;
  /** Base URL without a trailing slash. */
  server: string;
  /** Absent when EASEL_OPERATOR_TOKEN is unset or empty. */
  token?: string;
}

/** A mistake on the command line: the CLI prints the message and the usage, and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * @example
 * parseCliArgs(['prompt', 'left-canva', 'a red boat', '--seed', '7'], {})
 * // { command: { name: 'prompt', slug: 'left-canva', prompt: 'a red boat', seed: 7 }, server: 'http://localhost:8000' }
 */
export function parseCliArgs(argv: string[], env: Record<string, string | undefined>): CliInvocation {
  const read = () =>
    parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        server: { type: 'string' },
        seed: { type: 'string' },
        steps: { type: 'string' },
        stop: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        canvas: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        fps: { type: 'string' },
        width: { type: 'string' },
        archive: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  let parsed: ReturnType<typeof read>;
  try {
    parsed = read();
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const { values, positionals } = parsed;
  const rawServer = values.server ?? (env.EASEL_URL || DEFAULT_SERVER);
  const [name, ...rest] = positionals;
  if (values.help || name === 'help') return { command: { name: 'help' }, server: rawServer };
  if (name === undefined) throw new UsageError('Missing a command');
  const server = serverUrl(rawServer);
  const token = env.EASEL_OPERATOR_TOKEN || undefined;
  const invocation = (command: CliCommand): CliInvocation => ({ command, server, ...(token ? { token } : {}) });

  const only = (flag: 'seed' | 'steps' | 'stop' | 'json' | TimelapseFlag, command: string) => {
    if (values[flag] !== undefined && values[flag] !== false)
      throw new UsageError(`The option --${flag} goes only with "easel ${command}"`);
  };
  if (name !== 'prompt') {
    only('seed', 'prompt');
    only('steps', 'prompt');
  }
  if (name !== 'playlist') only('stop', 'playlist SLUG --stop');
  if (name !== 'status') only('json', 'status');
  if (name !== 'timelapse') for (const flag of TIMELAPSE_FLAGS) only(flag, 'timelapse');

  switch (name) {
    case 'status':
      expectCount(rest, 0, 1, 'status [SLUG]');
      return invocation({ name: 'status', json: values.json, ...(rest[0] === undefined ? {} : { slug: slug(rest[0]) }) });
    case 'prompt': {
      if (rest.length < 2) throw new UsageError('Usage: easel prompt SLUG "text" [--seed N] [--steps N]');
      // Unquoted words are joined, so `easel prompt lobby a red boat` works too.
      const prompt = rest.slice(1).join(' ').trim();
      if (prompt === '') throw new UsageError('The prompt is empty');
      return invocation({
        name: 'prompt',
        slug: slug(rest[0]!),
        prompt,
        ...(values.seed === undefined ? {} : { seed: integer('seed', values.seed, 0) }),
        ...(values.steps === undefined ? {} : { steps: integer('steps', values.steps, 1) }),
      });
    }
    case 'next':
    case 'pause':
    case 'resume':
    case 'remove':
      expectCount(rest, 1, 1, `${name} SLUG`);
      return invocation({ name, slug: slug(rest[0]!) });
    case 'playlist':
      if (values.stop) {
        expectCount(rest, 1, 1, 'playlist SLUG --stop');
        return invocation({ name: 'playlist-stop', slug: slug(rest[0]!) });
      }
      expectCount(rest, 2, 2, 'playlist SLUG NAME');
      return invocation({ name: 'playlist', slug: slug(rest[0]!), playlist: rest[1]! });
    case 'timelapse':
      return invocation(timelapse(values, rest));
    default:
      throw new UsageError(`Unknown command "${name}"`);
  }
}

const TIMELAPSE_FLAGS = ['canvas', 'from', 'to', 'fps', 'width', 'archive'] as const;
type TimelapseFlag = (typeof TIMELAPSE_FLAGS)[number];
const TIMELAPSE_USAGE = 'Usage: easel timelapse --canvas SLUG --from TIME --to TIME [--fps 12] [--width W] [--archive DIR] OUT.mp4';
const VIDEO_EXTENSIONS = ['.mp4', '.mov', '.mkv'];

function timelapse(values: Partial<Record<TimelapseFlag, string>>, rest: string[]): CliCommand {
  expectCount(rest, 1, 1, TIMELAPSE_USAGE.replace('Usage: easel ', ''));
  for (const flag of ['canvas', 'from', 'to'] as const)
    if (values[flag] === undefined) throw new UsageError(`Missing --${flag}: ${TIMELAPSE_USAGE}`);
  const time = (flag: 'from' | 'to') => {
    const ms = parseArchiveTime(values[flag]);
    if (ms === undefined)
      throw new UsageError(
        `Invalid --${flag} "${values[flag]}": expected a time like 2026-12-01T18:00 (server local time), 2026-12-01T18:00Z or 2026-12-01`,
      );
    return ms;
  };
  const from = time('from');
  const to = time('to');
  if (from >= to) throw new UsageError(`--from "${values.from}" is not before --to "${values.to}"`);
  const fps = Number(values.fps ?? '12');
  if (values.fps?.trim() === '' || !Number.isFinite(fps) || fps < 1 || fps > 120)
    throw new UsageError(`Invalid --fps "${values.fps}": expected a number from 1 to 120`);
  const out = rest[0]!;
  if (!VIDEO_EXTENSIONS.some((ext) => out.toLowerCase().endsWith(ext)))
    throw new UsageError(`The video "${out}" must end in ${VIDEO_EXTENSIONS.join(', ')} (ffmpeg picks the container from it)`);
  if (values.archive !== undefined && values.archive.trim() === '') throw new UsageError('--archive is empty: name the archive folder');
  return {
    name: 'timelapse',
    canvas: slug(values.canvas!),
    from,
    to,
    fps,
    ...(values.width === undefined ? {} : { width: width(values.width) }),
    ...(values.archive === undefined ? {} : { archive: values.archive }),
    out,
  };
}

function width(raw: string): number {
  const value = integer('width', raw, 16);
  if (value > 8192) throw new UsageError(`Invalid --width "${raw}": expected a whole number from 16 to 8192`);
  return value;
}

function expectCount(rest: string[], min: number, max: number, usage: string) {
  if (rest.length < min || rest.length > max) throw new UsageError(`Usage: easel ${usage}`);
}

function slug(raw: string): string {
  const check = parseSlug(raw);
  if (!check.ok) throw new UsageError(check.reason);
  return check.slug;
}

function integer(flag: string, raw: string, min: number): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isSafeInteger(value) || value < min) {
    throw new UsageError(`Invalid --${flag} "${raw}": expected a whole number from ${min}`);
  }
  return value;
}

function serverUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UsageError(`Invalid server URL "${raw}": expected something like ${DEFAULT_SERVER} (set --server or EASEL_URL)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Invalid server URL "${raw}": expected http:// or https:// (set --server or EASEL_URL)`);
  }
  return url.href.replace(/\/+$/, '');
}
