import { readdirSync, readFileSync } from 'node:fs';

/**
 * Every connection holds a file descriptor. Held connections by the thousand (SSE streams,
 * displays) used to take the last ones, and then the canvases could not open their images and
 * /healthz could not be answered. The guard refuses new connections while the process is
 * within `headroom` descriptors of its limit, so what is left stays for the canvases' own reads.
 *
 * Counting /proc/self/fd costs a directory read, so the count is sampled at most once a second
 * and connections admitted since are added to it; near the edge it is read again more often.
 */
export interface FdGuardOptions {
  /** Descriptors kept free for file reads and health checks. */
  headroom: number;
  now: () => number;
  /** The soft RLIMIT_NOFILE; read from /proc/self/limits when not given. */
  limit?: number;
  /** Open descriptors now, or undefined where that cannot be known (the guard then admits all). */
  countOpen?: () => number | undefined;
}

export interface FdGuard {
  /** True when a new connection may be taken now. */
  admit(): boolean;
  /** Open descriptors and the limit, as last seen. */
  status(): { open: number | undefined; limit: number; headroom: number };
}

/** Node has no getrlimit; the soft limit is the first number of this /proc line. */
const FALLBACK_LIMIT = 1024;
const SAMPLE_MS = 1000;
const SAMPLE_NEAR_EDGE_MS = 50;

export function readOpenFilesLimit(): number {
  try {
    const line = readFileSync('/proc/self/limits', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('Max open files'));
    const soft = line?.slice('Max open files'.length).trim().split(/\s+/)[0];
    if (soft === 'unlimited') return Number.MAX_SAFE_INTEGER;
    const n = Number(soft);
    return Number.isInteger(n) && n > 0 ? n : FALLBACK_LIMIT;
  } catch {
    return FALLBACK_LIMIT; // not Linux: assume the common default rather than no limit
  }
}

export function countOpenFiles(): number | undefined {
  for (const dir of ['/proc/self/fd', '/dev/fd']) {
    try {
      return readdirSync(dir).length;
    } catch {
      // try the next place
    }
  }
  return undefined;
}

export function createFdGuard(options: FdGuardOptions): FdGuard {
  const limit = options.limit ?? readOpenFilesLimit();
  const countOpen = options.countOpen ?? countOpenFiles;
  const ceiling = limit - options.headroom;
  let sampled: number | undefined;
  let sampledAt = -Infinity;
  let admittedSince = 0;

  const sample = (t: number) => {
    sampled = countOpen();
    sampledAt = t;
    admittedSince = 0;
  };

  return {
    admit() {
      const t = options.now();
      const age = t - sampledAt;
      const nearEdge = sampled !== undefined && sampled + admittedSince >= ceiling - options.headroom;
      if (age >= SAMPLE_MS || (nearEdge && age >= SAMPLE_NEAR_EDGE_MS)) sample(t);
      if (sampled === undefined) return true;
      if (sampled + admittedSince >= ceiling) return false;
      admittedSince++;
      return true;
    },
    status: () => ({ open: sampled, limit, headroom: options.headroom }),
  };
}
