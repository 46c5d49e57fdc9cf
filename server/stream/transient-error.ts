/**
 * Errors that say "not now" rather than "never": the process is out of file descriptors
 * (EMFILE), the system is (ENFILE), or the resource is briefly busy. A file that failed with one
 * of these is fine; marking it bad would drop it from the wall for good after a connection flood.
 */
const TRANSIENT = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']);

/** True for a transient file-system error, or one that wraps it as its cause. */
export function isTransientFsError(err: unknown): boolean {
  for (let e = err, depth = 0; e && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as NodeJS.ErrnoException).code;
    if (typeof code === 'string' && TRANSIENT.has(code)) return true;
  }
  return false;
}

/** How long a source waits before reading again after a transient error. */
export const TRANSIENT_RETRY_MS = 1000;
