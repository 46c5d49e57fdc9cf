import { messageFor, type DisplayMode, type Frame } from './frame.js';
import { renditionKey, type RenditionSpec } from '../stream/rendition.js';

/** The part of a uWS WebSocket a channel uses; send() returns 0 (queued), 1 (sent) or 2 (dropped). */
export interface DisplaySocket {
  send(message: Uint8Array | string, isBinary: boolean): number;
  getBufferedAmount(): number;
  /** Graceful: a close frame after what is queued. */
  end(code: number, reason: string): void;
  /** Hard: the descriptor and what uWS queued are let go at once, no close frame. */
  close(): void;
}

export interface Display {
  readonly id: number;
  readonly socket: DisplaySocket;
  readonly mode: DisplayMode;
  /** Which protocol it speaks: `v2`, `v1` or `json`. */
  readonly wire: string;
  spec: RenditionSpec;
  key: string;
  readonly remoteAddress: string;
  readonly userAgent: string;
  readonly connectedAt: number;
  sent: number;
  skipped: number;
  /** Frames skipped since the display last took one. */
  skippedInARow: number;
  ignoredMessages: number;
  /** When a send was first skipped because the display had not taken the previous frame. */
  blockedSince: number | null;
  lastSeq: number;
  /** Display clock minus server clock, from the last ping or report (ms). */
  clockOffsetMs: number | null;
  /** What the display last reported of its clock sync and presentation (protocol v2); null before. */
  sync: DisplaySync | null;
}

export interface DisplaySync {
  rttMs: number;
  errorMs: number;
  shown: number;
  late: number;
  /** Epoch ms of the report. */
  at: number;
}

let nextDisplayId = 1;

export function createDisplay(init: {
  socket: DisplaySocket;
  mode: DisplayMode;
  wire?: string;
  spec: RenditionSpec;
  remoteAddress: string;
  userAgent: string;
  now: number;
}): Display {
  return {
    id: nextDisplayId++,
    socket: init.socket,
    mode: init.mode,
    wire: init.wire ?? init.mode,
    spec: init.spec,
    key: renditionKey(init.spec),
    remoteAddress: init.remoteAddress,
    userAgent: init.userAgent,
    connectedAt: init.now,
    sent: 0,
    skipped: 0,
    skippedInARow: 0,
    ignoredMessages: 0,
    blockedSince: null,
    lastSeq: 0,
    clockOffsetMs: null,
    sync: null,
  };
}

export type Delivery = 'sent' | 'skipped' | 'missing' | 'current';

/**
 * The displays of one canvas and the frame they last got. Fan-out never queues: a display still
 * busy with an earlier frame skips this one (the newest wins when it catches up), so a slow
 * screen holds at most one frame of backlog and never slows the others.
 */
export class Channel {
  readonly displays = new Set<Display>();
  latest: Frame | undefined;
  published = 0;
  skippedSends = 0;

  add(display: Display): void {
    this.displays.add(display);
  }

  remove(display: Display): void {
    this.displays.delete(display);
  }

  /** The distinct renditions the connected displays want. */
  wantedSpecs(): RenditionSpec[] {
    const specs = new Map<string, RenditionSpec>();
    for (const d of this.displays) specs.set(d.key, d.spec);
    return [...specs.values()];
  }

  /** Makes `frame` the latest and offers it to every display; returns those whose rendition is missing. */
  publish(frame: Frame, now: number): Display[] {
    this.latest = frame;
    this.published++;
    const missing: Display[] = [];
    for (const display of this.displays) {
      if (this.deliver(display, frame, now) === 'missing') missing.push(display);
    }
    return missing;
  }

  deliver(display: Display, frame: Frame, now: number): Delivery {
    if (display.lastSeq >= frame.seq) return 'current';
    const message = messageFor(frame, display.key, display.mode);
    if (message === undefined) return 'missing';
    if (display.socket.getBufferedAmount() > 0 || display.socket.send(message, display.mode === 'binary') === 2) {
      display.skipped++;
      display.skippedInARow++;
      this.skippedSends++;
      display.blockedSince ??= now;
      return 'skipped';
    }
    display.sent++;
    display.skippedInARow = 0;
    display.lastSeq = frame.seq;
    display.blockedSince = null;
    return 'sent';
  }

  /** Called when a display's send buffer emptied: it is no longer blocked, and gets the newest frame it missed. */
  drained(display: Display, now: number): Delivery | undefined {
    if (display.socket.getBufferedAmount() > 0) return undefined;
    display.blockedSince = null;
    display.skippedInARow = 0;
    return this.latest ? this.deliver(display, this.latest, now) : undefined;
  }

  /**
   * Displays stuck rather than slow: they could take none of the last `maxSkipped` frames (the
   * rule at the usual rates), or none for longer than `timeoutMs` (a slow rate, or a canvas holding).
   */
  stalled(now: number, timeoutMs: number, maxSkipped: number): Display[] {
    const out: Display[] = [];
    for (const d of this.displays) {
      if (d.blockedSince === null) continue;
      if (d.skippedInARow >= maxSkipped || now - d.blockedSince > timeoutMs) out.push(d);
    }
    return out;
  }
}
