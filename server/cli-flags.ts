/**
 * The server's command line, read from the convict schema so that `--help` and the check of
 * unknown flags can never drift from what the config really takes. Convict (through
 * yargs-parser) silently ignores flags it does not know, so `--prot 9000` would start on 8000
 * without a word: checkFlags refuses it, naming the closest flag.
 */

import { editDistance } from './edit-distance.js';

export interface SchemaOption {
  /** Dotted config key, e.g. log.level. */
  key: string;
  doc: string;
  default: unknown;
  env?: string;
  arg?: string;
  sensitive?: boolean;
  boolean: boolean;
}

type SchemaNode = Record<string, unknown>;

const isLeaf = (node: SchemaNode) => 'doc' in node && 'default' in node;

/** Every leaf of a convict schema, in declaration order. */
export function schemaOptions(schema: SchemaNode, prefix = ''): SchemaOption[] {
  const out: SchemaOption[] = [];
  for (const [name, value] of Object.entries(schema)) {
    if (typeof value !== 'object' || value === null) continue;
    const node = value as SchemaNode;
    const key = prefix ? `${prefix}.${name}` : name;
    if (!isLeaf(node)) {
      out.push(...schemaOptions(node, key));
      continue;
    }
    out.push({
      key,
      doc: String(node.doc),
      default: node.default,
      ...(typeof node.env === 'string' ? { env: node.env } : {}),
      ...(typeof node.arg === 'string' ? { arg: node.arg } : {}),
      ...(node.sensitive === true ? { sensitive: true } : {}),
      boolean: node.format === Boolean,
    });
  }
  return out;
}

const HELP_FLAGS = ['help', 'h'];

/** The known name nearest to `name`, when it is near enough to be a typo. */
export function closest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    const d = candidate.startsWith(name) || name.startsWith(candidate) ? 1 : editDistance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(name.length / 3)) ? best : undefined;
}

export type FlagCheck = { ok: true; help: boolean } | { ok: false; message: string };

/**
 * Reads argv the way yargs-parser does (`--flag value`, `--flag=value`, `--no-flag` for
 * switches) and refuses anything the schema does not name, and stray words.
 */
export function checkFlags(argv: readonly string[], options: readonly SchemaOption[]): FlagCheck {
  const flags = new Map(options.filter((o) => o.arg).map((o) => [o.arg!, o]));
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]!;
    if (token === '--')
      return { ok: false, message: `Unexpected "--": flags go straight after "npm start --", e.g. npm start -- --port 9000` };
    if (!token.startsWith('-') || token === '-') {
      return { ok: false, message: `Unexpected argument "${token}": the server takes only flags, e.g. --port 9000` };
    }
    const [rawName, inlineValue] = splitOnce(token.replace(/^--?/, ''), '=');
    if (HELP_FLAGS.includes(rawName)) {
      help = true;
      continue;
    }
    const negated = rawName.startsWith('no-') && flags.get(rawName.slice(3))?.boolean ? rawName.slice(3) : undefined;
    const option = flags.get(negated ?? rawName);
    if (!option) {
      const near = closest(rawName, [...flags.keys(), 'help']);
      return { ok: false, message: `Unknown flag "${token.split('=')[0]}"${near ? ` (did you mean --${near}?)` : ''}` };
    }
    if (inlineValue !== undefined || negated) continue;
    const next = argv[i + 1];
    const takesNext = next !== undefined && (!next.startsWith('-') || /^-\d/.test(next));
    if (takesNext && (!option.boolean || next === 'true' || next === 'false')) i++;
    else if (!option.boolean) return { ok: false, message: `Flag --${option.arg} needs a value, e.g. --${option.arg} ${example(option)}` };
  }
  return { ok: true, help };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const at = s.indexOf(sep);
  return at < 0 ? [s, undefined] : [s.slice(0, at), s.slice(at + 1)];
}

function example(option: SchemaOption): string {
  const d = option.default;
  if (typeof d === 'string' && d !== '' && !d.includes('/')) return d;
  if (typeof d === 'number') return String(d);
  return '<value>';
}

function shownDefault(option: SchemaOption): string {
  if (option.sensitive) return '';
  const d = option.default;
  if (d === '' || (Array.isArray(d) && d.length === 0)) return '';
  const text = typeof d === 'string' ? d : JSON.stringify(d);
  return ` [default: ${text.length > 60 ? `${text.slice(0, 57)}...` : text}]`;
}

/** `npm start -- --help`: every flag, then every EASEL_* variable, from the schema. */
export function helpText(options: readonly SchemaOption[]): string {
  type Row = [string, string];
  const flagRows: Row[] = options
    .filter((o) => o.arg)
    .map((o): Row => [`  --${o.arg}${o.boolean ? '' : ' <value>'}`, `${o.doc} (${o.key}${o.env ? `, ${o.env}` : ''})${shownDefault(o)}`]);
  flagRows.push(['  --help, -h', 'Print this help and exit']);
  const envRows = options.filter((o) => o.env).map((o): Row => [`  ${o.env}`, `${o.doc} (${o.key})${shownDefault(o)}`]);
  const table = (rows: Row[]) => {
    const width = Math.max(...rows.map(([left]) => left.length)) + 2;
    return rows.map(([left, right]) => left.padEnd(width) + right).join('\n');
  };
  return [
    'Easel: streams canvases of images to wall displays.',
    '',
    'Usage: npm start -- [flags]      (builds first if the build is missing or out of date)',
    '       npm run start:prod -- [flags]   or   node dist/server/main.js [flags]',
    '',
    'Settings come from defaults, then config/<NODE_ENV>.json (or --config FILE), then EASEL_*',
    'variables, then flags. README.md has the whole table.',
    '',
    'Flags:',
    table(flagRows),
    '',
    'Environment:',
    table(envRows),
    '',
  ].join('\n');
}
