/**
 * A failed schema check in words a person can act on: each problem names its field by path, says
 * what is wrong with the value and gives the field's hint. Surfaces frame these their own way.
 */
import type { z } from 'zod';
import { EaselError } from '../errors.js';
import { isPredicate, ruleOf } from './fields.js';

export interface InputProblem {
  path: PropertyKey[];
  /** The path as a person writes it: `source.steps`, `formats[1]`. */
  field: string;
  /** The value found there (undefined when missing). */
  value: unknown;
  /** What is allowed there; absent when `message` says it all (missing, too long, unknown). */
  expected?: string;
  /** The predicate after the field: `value 51 is not allowed, expected …`, `is required`. */
  message: string;
  hint: string;
}

const valueAt = (data: unknown, path: readonly PropertyKey[]): unknown =>
  path.reduce<unknown>((v, k) => (typeof v === 'object' && v !== null ? (v as Record<PropertyKey, unknown>)[k] : undefined), data);

export const fieldPath = (path: readonly PropertyKey[]): string =>
  path.map((k, i) => (typeof k === 'number' ? `[${k}]` : `${i > 0 ? '.' : ''}${String(k)}`)).join('');

/** Every problem of a failed parse of `data`, one per field, in the schema's order. */
export function problemsOf(error: z.ZodError, data: unknown): InputProblem[] {
  const all = error.issues.flatMap((issue): InputProblem[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => {
        const path = [...issue.path, key];
        return {
          path,
          field: fieldPath(path),
          value: valueAt(data, path),
          message: 'unknown setting',
          hint: 'Remove it, or check its spelling',
        };
      });
    }
    // A wrong item of a list is shown with its list: `formats: value ["webp","gif"] is not allowed`.
    const path = issue.path.slice(0, issue.path.findLastIndex((k) => typeof k !== 'number') + 1);
    const value = valueAt(data, path);
    const base = { path, field: fieldPath(path), value, hint: ruleOf(path.at(-1)).hint };
    if (value === undefined) return [{ ...base, message: 'is required' }];
    if (isPredicate(issue)) return [{ ...base, message: issue.message }];
    return [{ ...base, expected: issue.message, message: `value ${JSON.stringify(value)} is not allowed, expected ${issue.message}` }];
  });
  // One rule can fail twice (a seed of 2^53 is neither safe nor in range): say it once.
  return all.filter((p, i) => all.findIndex((q) => q.field === p.field) === i);
}

/**
 * A request body or command checked against its shape; the first problem is thrown as
 * EASEL_ERR_REQUEST_INVALID naming the field (`steps: value 51 is not allowed, …`).
 *
 * @example
 * const command = parseRequest(promptCommand, jsonBody(req));
 */
export function parseRequest<T extends z.ZodType>(schema: T, data: unknown): z.infer<T> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const first = problemsOf(result.error, data)[0]!;
  throw new EaselError('EASEL_ERR_REQUEST_INVALID', `${first.field}: ${first.message}`, {
    hint: first.hint,
    details: { field: first.field },
  });
}
