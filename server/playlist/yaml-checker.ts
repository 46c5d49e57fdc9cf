/**
 * The small toolkit parse-playlist uses to read a YAML tree strictly: each getter checks one
 * value's type and range and, when it is wrong, records a problem at that value's line and
 * column with what is allowed there. Pure.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type LineCounter, type Node, type YAMLMap } from 'yaml';
import type { z } from 'zod';
import { editDistance } from '../edit-distance.js';
import { problemsOf } from '../input/problems.js';

export interface Problem {
  line: number;
  column: number;
  message: string;
  hint: string;
}

export interface Entry {
  key: Node;
  value: Node;
  /** Filed under the allowed key it is nearest to; its problem is already recorded. */
  misspelt?: boolean;
}

export type Checker = ReturnType<typeof createChecker>;

export function createChecker(doc: Document.Parsed, lineCounter: LineCounter) {
  const problems: Problem[] = [];

  const offsetOf = (node: unknown): number => {
    const range = (node as { range?: [number, number, number] | null } | null)?.range;
    return range ? range[0] : 0;
  };
  const problemAt = (offset: number, message: string, hint: string) => {
    const pos = lineCounter.linePos(offset);
    problems.push({ line: Math.max(1, pos.line), column: Math.max(1, pos.col), message, hint });
  };
  const problem = (node: unknown, message: string, hint: string) => problemAt(offsetOf(node), message, hint);

  /** An alias (`*intro`) stands for its anchored node; problems inside point at the anchor. */
  const resolve = (node: unknown): Node | undefined => {
    if (isAlias(node)) return node.resolve(doc) ?? undefined;
    return (node as Node | null) ?? undefined;
  };

  /** How a wrong value is quoted in a message. */
  const show = (node: unknown): string => {
    const n = resolve(node);
    if (isMap(n)) return 'a map';
    if (isSeq(n)) return 'a list';
    if (!isScalar(n) || n.value === null || n.value === undefined) return 'nothing';
    return typeof n.value === 'string' ? `"${n.value.length > 40 ? `${n.value.slice(0, 37)}...` : n.value}"` : String(n.value);
  };

  const scalar = (node: unknown): unknown => {
    const n = resolve(node);
    return isScalar(n) ? n.value : n === undefined ? null : n;
  };

  return {
    problems,
    problem,
    problemAt,
    resolve,
    show,
    sorted: (): Problem[] => [...problems].sort((a, b) => a.line - b.line || a.column - b.column),
    lineOf: (node: unknown): number => Math.max(1, lineCounter.linePos(offsetOf(node)).line),

    /**
     * The keys of a map, in file order. Unknown keys (outside `allowed`, when reportUnknown)
     * are problems that name the allowed ones; one close to an allowed key is also filed under
     * that key, so its value is still checked and it is not reported missing too. Keys in
     * `ignore` pass silently.
     */
    entries(map: YAMLMap, allowed: string[], label: string, reportUnknown = true, ignore: string[] = []): Map<string, Entry> {
      const out = new Map<string, Entry>();
      for (const pair of map.items) {
        const key = pair.key as Node;
        const name = isScalar(key) ? key.value : undefined;
        if (typeof name !== 'string') {
          problem(key, `Keys must be words, not ${show(key)}`, `${label} takes ${allowed.join(', ')}`);
          continue;
        }
        if (ignore.includes(name)) continue;
        if (reportUnknown && !allowed.includes(name)) {
          const near = allowed.find((a) => editDistance(a.toLowerCase(), name.toLowerCase()) <= 2);
          problem(key, `Unknown key "${name}"${near ? ` (did you mean "${near}"?)` : ''}`, `${label} takes ${allowed.join(', ')}`);
          if (near && !map.has(near) && !out.has(near)) out.set(near, { key, value: resolve(pair.value) ?? key, misspelt: true });
          continue;
        }
        out.set(name, { key, value: resolve(pair.value) ?? key });
      }
      return out;
    },

    /**
     * The values of `keys` checked by a shape of input/shapes.ts, the rules the API and the config
     * follow too; each wrong one is a problem at its value: `"steps" must be …, not 51`.
     */
    shape<T extends z.ZodObject>(schema: T, keys: Map<string, Entry>): z.infer<T> | undefined {
      const nodes = new Map<string, Node>();
      const data: Record<string, unknown> = {};
      for (const name of Object.keys(schema.shape)) {
        const entry = keys.get(name);
        if (!entry) continue;
        nodes.set(name, entry.value);
        data[name] = scalar(entry.value);
      }
      const result = schema.safeParse(data);
      if (result.success) return result.data;
      for (const p of problemsOf(result.error, data)) {
        const name = String(p.path[0]);
        const node = nodes.get(name);
        problem(node, p.expected ? `"${name}" must be ${p.expected}, not ${show(node)}` : `"${name}" ${p.message}`, p.hint);
      }
      return undefined;
    },

    /** A non-empty string, at most maxChars long. */
    text(node: unknown, label: string, maxChars = 4096): string | undefined {
      const value = scalar(node);
      if (typeof value !== 'string' || value.trim() === '') {
        problem(
          node,
          `${label} must be text, not ${show(node)}`,
          typeof value === 'number' ? 'Put the value in quotes' : 'Write a non-empty value',
        );
        return undefined;
      }
      if (value.length > maxChars) {
        problem(node, `${label} is ${value.length} characters long, the most is ${maxChars}`, 'Shorten it');
        return undefined;
      }
      return value;
    },

    bool(node: unknown, label: string): boolean | undefined {
      const value = scalar(node);
      if (typeof value === 'boolean') return value;
      problem(
        node,
        `${label} must be true or false, not ${show(node)}`,
        `Write ${label.replace(/"/g, '')}: true or ${label.replace(/"/g, '')}: false`,
      );
      return undefined;
    },

    number(node: unknown, label: string, min: number, max: number): number | undefined {
      const value = scalar(node);
      if (typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max) return value;
      problem(node, `${label} must be a number from ${min} to ${max}, not ${show(node)}`, `Write a number between ${min} and ${max}`);
      return undefined;
    },

    int(node: unknown, label: string, min: number, max: number): number | undefined {
      const value = scalar(node);
      if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) return value;
      problem(
        node,
        `${label} must be a whole number from ${min} to ${max}, not ${show(node)}`,
        `Write a whole number between ${min} and ${max}`,
      );
      return undefined;
    },

    /** The items of a list (aliases resolved); a lone value counts as a list of one when allowSingle. */
    list(node: unknown, label: string, example: string, allowSingle: boolean): Node[] {
      const n = resolve(node);
      if (isSeq(n)) return n.items.map((item) => resolve(item) ?? (item as Node));
      if (allowSingle && isScalar(n) && n.value !== null) return [n];
      problem(node, `${label} must be a list, not ${show(node)}`, `For example: ${example}`);
      return [];
    },
  };
}
