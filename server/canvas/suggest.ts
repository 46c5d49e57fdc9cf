/**
 * "Did you mean …" for canvas slugs: a typo in a command (`left-canvas` for `left-canva`) must
 * name the canvas the operator meant instead of silently acting on nothing.
 */

import { editDistance } from '../edit-distance.js';

const MAX_EDITS = 2;
/** A prefix this short (`l`) says nothing about which canvas was meant. */
const MIN_PREFIX = 3;

/**
 * The known slug nearest to `wanted`: within two edits, or one of them a prefix of the other.
 * Undefined when nothing is near. Ties go to the alphabetically first, so the answer is stable.
 *
 * @example
 * nearestSlug('left-canvas', ['left-canva', 'right-canva']) // 'left-canva'
 * nearestSlug('lobby', ['lobby-3'])                          // 'lobby-3'
 */
export function nearestSlug(wanted: string, known: Iterable<string>): string | undefined {
  let best: { slug: string; score: number } | undefined;
  for (const slug of [...known].sort()) {
    if (slug === wanted) return slug;
    const distance = editDistance(wanted, slug, MAX_EDITS);
    const prefix = Math.min(wanted.length, slug.length) >= MIN_PREFIX && (slug.startsWith(wanted) || wanted.startsWith(slug));
    const score = distance <= MAX_EDITS ? distance : prefix ? MAX_EDITS + 1 : Infinity;
    if (score < (best?.score ?? Infinity)) best = { slug, score };
  }
  return best?.slug;
}
