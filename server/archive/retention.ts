/**
 * Which entries retention removes: unstarred entries older than the age limit, then the oldest
 * unstarred until the kept images fit the size limit. Starred entries are never chosen.
 */
import type { ArchiveEntry } from './archive-entry.js';

export interface RetentionLimits {
  /** Total bytes of kept images; 0: no limit. */
  maxBytes: number;
  /** Unstarred entries made before this epoch ms go; -Infinity: no age limit. */
  cutoffMs: number;
}

/**
 * Victims among `oldestFirst` (oldest first) given the archive's `totalBytes`. Stops at the first
 * unstarred entry that is young enough once the size fits, so after a write it looks at a few
 * entries only (plus the starred ones among the oldest).
 */
export function pickVictims(oldestFirst: Iterable<ArchiveEntry>, totalBytes: number, limits: RetentionLimits): ArchiveEntry[] {
  const victims: ArchiveEntry[] = [];
  let bytes = totalBytes;
  const over = () => limits.maxBytes > 0 && bytes > limits.maxBytes;
  for (const entry of oldestFirst) {
    if (entry.starred) {
      if (!over() && Date.parse(entry.madeAt) >= limits.cutoffMs) break;
      continue;
    }
    if (Date.parse(entry.madeAt) < limits.cutoffMs || over()) {
      victims.push(entry);
      bytes -= entry.bytes;
    } else {
      break;
    }
  }
  return victims;
}
