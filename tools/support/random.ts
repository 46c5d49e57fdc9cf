/** mulberry32: a small seeded generator; the same seed gives the same sequence in [0, 1), so assets, benchmarks, the dev service and the soak replay exactly. */
export function createRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform number in [low, high). */
export const between = (random: () => number, low: number, high: number): number => low + (high - low) * random();

/** One element of a non-empty list. */
export function pick<T>(random: () => number, list: readonly T[]): T {
  if (list.length === 0) throw new RangeError('Expected a non-empty list to pick from but received an empty one');
  return list[Math.floor(random() * list.length)]!;
}
