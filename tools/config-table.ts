/** Prints the configuration keys as a Markdown table, for README.md: `npx tsx tools/config-table.ts`. */
import path from 'node:path';
import { PROJECT_ROOT, schema } from '../server/config.js';

type Leaf = { doc: string; default: unknown; env?: string; arg?: string; format?: unknown };

function* leaves(node: Record<string, unknown>, prefix: string): Generator<[string, Leaf]> {
  for (const [key, value] of Object.entries(node)) {
    const v = value as Record<string, unknown>;
    if ('doc' in v && 'default' in v) yield [`${prefix}${key}`, v as unknown as Leaf];
    else yield* leaves(v, `${prefix}${key}.`);
  }
}

const show = (v: unknown) => {
  const text = typeof v === 'string' ? v.replace(PROJECT_ROOT + path.sep, '') : JSON.stringify(v);
  return `\`${text === '' ? '""' : text}\``;
};

const rows = ['| Key | Env / flag | Default | What it does |', '|---|---|---|---|'];
for (const [key, leaf] of leaves(schema as unknown as Record<string, unknown>, '')) {
  const names = [leaf.env && `\`${leaf.env}\``, leaf.arg && `\`--${leaf.arg}\``].filter(Boolean).join(' ');
  rows.push(`| \`${key}\` | ${names} | ${show(leaf.default)} | ${leaf.doc} |`);
}
process.stdout.write(`${rows.join('\n')}\n`);
