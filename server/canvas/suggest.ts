/**
 * "Did you mean …" for canvas slugs: a typo in a command (`left-canvas` for `left-canva`) must
 * name the canvas the operator meant instead of silently acting on nothing.
 */

/** Edits (insert, delete, substitute) from a to b, giving up past `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + cost);
      best = Math.min(best, row[j]!);
    }
    if (best > max) return max + 1;
    previous = row;
  }
  return previous[b.length]!;
}

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
