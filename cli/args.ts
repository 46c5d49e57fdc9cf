/**
 * The `easel` command line, read into one typed command. Pure: the environment comes in as a
 * plain object, and every mistake is a UsageError whose message is fit for the terminal.
 */
import { parseArgs } from 'node:util';
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

Options:
  --server URL   the Easel server (default: $EASEL_URL, else ${DEFAULT_SERVER})
  --json         status: print the API's JSON instead of a table
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
  | { name: 'playlist-stop'; slug: string };

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

  const only = (flag: 'seed' | 'steps' | 'stop' | 'json', command: string) => {
    if (values[flag] !== undefined && values[flag] !== false)
      throw new UsageError(`The option --${flag} goes only with "easel ${command}"`);
  };
  if (name !== 'prompt') {
    only('seed', 'prompt');
    only('steps', 'prompt');
  }
  if (name !== 'playlist') only('stop', 'playlist SLUG --stop');
  if (name !== 'status') only('json', 'status');

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
    default:
      throw new UsageError(`Unknown command "${name}"`);
  }
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
