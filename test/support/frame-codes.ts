/**
 * Solid colours that name frames: each channel takes one of four levels, so 62 codes (black and
 * white are left out: a page shows them before its first frame) survive a small, lossy JPEG of the
 * screen with room to spare (levels 85 apart, a pixel may be 30 off).
 */
export const CODE_COUNT = 62;
const LEVEL = 85;
const TOLERANCE = 30;

/** The colour of code 0 … CODE_COUNT - 1, as `#rrggbb`. */
export function codeColour(code: number): string {
  if (!Number.isInteger(code) || code < 0 || code >= CODE_COUNT) throw new Error(`No frame code ${code}: codes run 0 to ${CODE_COUNT - 1}`);
  const n = code + 1;
  const channels = [(n >> 4) & 3, (n >> 2) & 3, n & 3].map((level) => (level * LEVEL).toString(16).padStart(2, '0'));
  return `#${channels.join('')}`;
}

/** The code of a colour seen on screen, or null for black, white, a blend (a frame half drawn) or anything else. */
export function codeOf([r, g, b]: readonly number[]): number | null {
  let n = 0;
  for (const v of [r!, g!, b!]) {
    const level = Math.round(v / LEVEL);
    if (level < 0 || level > 3 || Math.abs(v - level * LEVEL) > TOLERANCE) return null;
    n = n * 4 + level;
  }
  return n === 0 || n === 63 ? null : n - 1;
}
