/** A canvas slug as docs/protocol.md fixes it: lowercase letters, digits and dashes, 1–63 chars. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export type SlugCheck = { ok: true; slug: string } | { ok: false; reason: string };

/**
 * Checks a slug taken from a URL or config, and says in plain words what is wrong with it.
 *
 * @example
 * parseSlug('left-canva') // { ok: true, slug: 'left-canva' }
 * parseSlug('Left')       // { ok: false, reason: 'Invalid canvas slug "Left": ...' }
 */
export function parseSlug(raw: string): SlugCheck {
  if (SLUG_PATTERN.test(raw)) return { ok: true, slug: raw };
  const shown = raw.length > 70 ? `${raw.slice(0, 67)}...` : raw;
  let why: string;
  if (raw.length === 0) why = 'it is empty';
  else if (raw.length > 63) why = `it is ${raw.length} characters long, the most is 63`;
  else if (raw.startsWith('-')) why = 'it starts with a dash';
  else why = 'it may hold only lowercase letters a-z, digits and dashes';
  return { ok: false, reason: `Invalid canvas slug "${shown}": ${why}` };
}
