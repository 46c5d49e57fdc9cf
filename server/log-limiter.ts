/**
 * A visitor can make some warnings happen once per packet or per request (OSC junk, refused
 * connections). One line per event would then flood the log and the disk, so such warnings
 * go through a limiter: at most one line per kind per window, and the next line says how many
 * were left out. Kinds are few and fixed by the code ("osc-malformed", "fd-limit"), never built
 * from what a visitor sends, so a flood from many addresses is still one kind. Counters in
 * /metrics keep the full count.
 */
export interface LogLimiter {
  /**
   * Says whether a line of this kind may be written now: the number of lines of this kind left
   * out since the last one written (0 for the first), or undefined to stay quiet.
   */
  take(kind: string): number | undefined;
}

export interface LogLimiterOptions {
  /** Milliseconds; injected so tests move time by hand. */
  now: () => number;
  /** At most one line per kind in this window; default a minute. */
  windowMs?: number;
  /** Kinds remembered at once; past it the oldest are forgotten (a bug, not a visitor, makes many). */
  maxKinds?: number;
}

export function createLogLimiter(options: LogLimiterOptions): LogLimiter {
  const windowMs = options.windowMs ?? 60_000;
  const maxKinds = options.maxKinds ?? 256;
  const kinds = new Map<string, { at: number; suppressed: number }>();

  return {
    take(kind) {
      const t = options.now();
      const entry = kinds.get(kind);
      if (entry && t - entry.at < windowMs) {
        entry.suppressed++;
        return undefined;
      }
      const suppressed = entry?.suppressed ?? 0;
      kinds.delete(kind); // re-inserted last: the Map's order is then oldest line first
      if (kinds.size >= maxKinds) kinds.delete(kinds.keys().next().value!);
      kinds.set(kind, { at: t, suppressed: 0 });
      return suppressed;
    },
  };
}
