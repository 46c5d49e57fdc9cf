/**
 * Messages between the fan-out benchmark and its load-client processes (fanout-client.ts),
 * over the IPC channel with 'advanced' serialization, so typed arrays cross as they are.
 */

export interface DisplayPlan {
  /** Index of the display in the whole step, 0..N-1. */
  index: number;
  /** Index of its canvas. */
  canvas: number;
  url: string;
}

export type ToClient =
  | { type: 'open'; displays: DisplayPlan[]; batch: number; openTimeoutMs: number }
  | { type: 'report' }
  | { type: 'close' };

/** Everything one display received: one entry per binary frame message. */
export interface DisplayRecord {
  index: number;
  canvas: number;
  opened: boolean;
  /** Frame `seq` from the header. */
  seqs: Int32Array;
  /** Arrival, epoch ms (performance.timeOrigin + performance.now(): the server's pacer clock). */
  at: Float64Array;
  /** Whole message size, bytes (4 + header + image). */
  bytes: Int32Array;
  /** The header's presentAt (epoch ms, server clock), NaN where it has none (protocol v1, sync off). */
  presentAt: Float64Array;
  /** fps from the hello, or 0 when none came. */
  helloFps: number;
  /** Close code when the server closed the socket before we did. */
  closedByServer: number | null;
  error: string | null;
}

export type FromClient =
  | { type: 'ready' }
  | { type: 'opened'; opened: number; failed: number; refusals: Record<string, number>; errors: Record<string, number>; ms: number }
  | { type: 'report'; displays: DisplayRecord[]; badMessages: number };
