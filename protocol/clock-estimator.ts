/**
 * The offset between the server's clock and the display's monotonic clock (`performance.now()`),
 * estimated from ping/pong exchanges the way NTP does: a sample's true offset lies within half
 * its round trip of the sample's midpoint, so the samples with the smallest round trip are the
 * ones to trust. The display's wall clock is never used, so a display whose clock is hours off,
 * or that steps its clock, presents on time all the same.
 *
 * Pure and DOM-free: the caller measures the times and passes `now` in. Cluster nodes use it too,
 * against Redis `TIME` (server/cluster/clock-sync.ts): there "display" reads "node" and "server"
 * reads "Redis".
 */

/** One ping/pong exchange. `sentAt` and `receivedAt` are on the display's clock, `serverTime` on the server's. */
export interface ClockSample {
  sentAt: number;
  receivedAt: number;
  serverTime: number;
}

export interface ClockEstimate {
  /** Server clock minus display clock: `server = local + offsetMs`. */
  offsetMs: number;
  /** How far `offsetMs` may be from the truth: at most half the best round trip plus its age's drift, less as samples agree. */
  errorMs: number;
  /** The smallest round trip among the samples in use. */
  rttMs: number;
  /** Samples in use. */
  samples: number;
}

/** What became of a sample: used, refused (impossible round trip), set aside (disagrees with the estimate), or a clock jump found. */
export type SampleVerdict = 'accepted' | 'rejected' | 'outlier' | 'jump';

export interface ClockEstimatorOptions {
  /** The display's clock, the same one the samples are measured on. */
  now(): number;
  /** Samples kept (the newest). */
  windowSize?: number;
  /** Older samples are forgotten, so a drift between the clocks cannot pile up. */
  maxAgeMs?: number;
  /** How fast the two clocks may drift apart (parts per million): an old sample's error grows by this. */
  driftPpm?: number;
  /** Clock granularity: the server stamps whole milliseconds, browsers coarsen `performance.now()`. */
  resolutionMs?: number;
  /** A longer round trip says nothing useful (or the display clock jumped while the ping was out). */
  maxRttMs?: number;
  /** This many samples in a row that disagree with the estimate, and agree with each other, mean a clock jumped. */
  jumpAfter?: number;
}

export interface ClockEstimatorStats {
  accepted: number;
  rejected: number;
  outliers: number;
  jumps: number;
}

export interface ClockEstimator {
  readonly stats: ClockEstimatorStats;
  /** True before the first sample and while recent samples disagree with the estimate: time for a burst of pings. */
  readonly unsettled: boolean;
  add(sample: ClockSample): SampleVerdict;
  /** The current estimate; null before the first usable sample. */
  estimate(): ClockEstimate | null;
  /** A display-clock time on the server's clock; undefined without an estimate. */
  toServer(local: number): number | undefined;
  /** A server-clock time on the display's clock; undefined without an estimate. */
  toLocal(server: number): number | undefined;
  /** Forgets every sample (the display switched to another server). */
  reset(): void;
}

export const CLOCK_DEFAULTS = {
  windowSize: 16,
  maxAgeMs: 300_000,
  // Quartz oscillators are within ±50 ppm of nominal; two of them drift apart by up to 100 ppm.
  driftPpm: 100,
  resolutionMs: 1,
  maxRttMs: 10_000,
  jumpAfter: 3,
} as const;

interface Kept extends ClockSample {
  offset: number;
  rtt: number;
}

/**
 * @example
 * const clock = createClockEstimator({ now: () => performance.now() });
 * clock.add({ sentAt, receivedAt: performance.now(), serverTime: pong.serverTime });
 * const due = clock.toLocal(header.presentAt); // when to show it, on performance.now()'s clock
 */
export function createClockEstimator(options: ClockEstimatorOptions): ClockEstimator {
  const o = { ...CLOCK_DEFAULTS, ...options };
  const drift = o.driftPpm / 1e6;
  let kept: Kept[] = [];
  /** Recent samples that disagree with the estimate, kept while they agree with each other. */
  let pending: Kept[] = [];
  let lastSentAt = Number.NEGATIVE_INFINITY;
  const stats: ClockEstimatorStats = { accepted: 0, rejected: 0, outliers: 0, jumps: 0 };

  /** How far a sample's offset may be from the truth now: half its round trip, plus the drift since. */
  const halfWidth = (s: Kept, now: number) => s.rtt / 2 + o.resolutionMs + Math.max(0, now - s.receivedAt) * drift;

  function prune(now: number): void {
    kept = kept.filter((s) => now - s.receivedAt <= o.maxAgeMs);
    if (kept.length > o.windowSize) kept = kept.slice(kept.length - o.windowSize);
  }

  function estimate(): ClockEstimate | null {
    const now = o.now();
    prune(now);
    if (kept.length === 0) return null;
    // Every honest sample's interval holds the true offset, so their intersection does too; the
    // quickest round trips are the narrowest intervals and bound it most. A slow, lopsided
    // round trip is a wide interval and moves nothing.
    let lo = Number.NEGATIVE_INFINITY;
    let hi = Number.POSITIVE_INFINITY;
    let best = kept[0]!;
    for (const s of kept) {
      const w = halfWidth(s, now);
      lo = Math.max(lo, s.offset - w);
      hi = Math.min(hi, s.offset + w);
      if (w < halfWidth(best, now)) best = s;
    }
    const rttMs = Math.min(...kept.map((s) => s.rtt));
    if (lo <= hi) return { offsetMs: (lo + hi) / 2, errorMs: (hi - lo) / 2, rttMs, samples: kept.length };
    // The clocks drifted faster than assumed (a server clock being slewed): trust the best sample, and say by how much they disagree.
    return { offsetMs: best.offset, errorMs: halfWidth(best, now) + (lo - hi) / 2, rttMs, samples: kept.length };
  }

  /** Whether the samples' intervals (offset ± half width) share a point, give or take the resolution. */
  function consistent(samples: Kept[], now: number): boolean {
    let lo = Number.NEGATIVE_INFINITY;
    let hi = Number.POSITIVE_INFINITY;
    for (const s of samples) {
      const w = halfWidth(s, now);
      lo = Math.max(lo, s.offset - w);
      hi = Math.min(hi, s.offset + w);
    }
    return lo <= hi + o.resolutionMs;
  }

  function startOver(samples: Kept[]): SampleVerdict {
    kept = samples;
    pending = [];
    stats.jumps++;
    return 'jump';
  }

  function add(sample: ClockSample): SampleVerdict {
    const rtt = sample.receivedAt - sample.sentAt;
    if (![sample.sentAt, sample.receivedAt, sample.serverTime].every(Number.isFinite) || rtt < 0 || rtt > o.maxRttMs) {
      // A negative round trip is the display clock stepping back while the ping was out.
      stats.rejected++;
      return 'rejected';
    }
    const s: Kept = { ...sample, rtt, offset: sample.serverTime - (sample.sentAt + sample.receivedAt) / 2 };
    // Pongs come back in the order the pings went out: an earlier send time means the display clock went back.
    const wentBack = sample.sentAt < lastSentAt;
    lastSentAt = sample.sentAt;
    if (wentBack) return startOver([s]);
    const current = estimate();
    const now = o.now();
    if (!current) {
      kept.push(s);
      stats.accepted++;
      return 'accepted';
    }
    const w = halfWidth(s, now);
    const agrees =
      s.offset + w + o.resolutionMs >= current.offsetMs - current.errorMs &&
      s.offset - w - o.resolutionMs <= current.offsetMs + current.errorMs;
    if (agrees) {
      kept.push(s);
      pending = [];
      stats.accepted++;
      prune(now);
      return 'accepted';
    }
    // Two honest clocks cannot give this sample: one of them moved, or the packet lied. One such sample is set aside;
    // several in a row that agree with each other mean the clocks really are elsewhere now.
    pending = consistent([...pending, s], now) ? [...pending, s] : [s];
    stats.outliers++;
    if (pending.length >= o.jumpAfter) return startOver(pending);
    return 'outlier';
  }

  return {
    stats,
    get unsettled() {
      return kept.length === 0 || pending.length > 0;
    },
    add,
    estimate,
    toServer(local) {
      const e = estimate();
      return e ? local + e.offsetMs : undefined;
    },
    toLocal(server) {
      const e = estimate();
      return e ? server - e.offsetMs : undefined;
    },
    reset() {
      kept = [];
      pending = [];
      lastSentAt = Number.NEGATIVE_INFINITY;
    },
  };
}
