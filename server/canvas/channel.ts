import { messageFor, type DisplayMode, type Frame } from './frame.js';
import { createLocalFanOut, type FanOut, type TopicSocket } from './fan-out.js';
import { renditionKey, type RenditionSpec } from '../stream/rendition.js';

/** The part of a uWS WebSocket a channel uses. */
export interface DisplaySocket extends TopicSocket {
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
  /** Subscribed to its topic, so each publish reaches it; out while it has a frame queued. */
  inTopic: boolean;
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
    inTopic: false,
    clockOffsetMs: null,
    sync: null,
  };
}

export type Delivery = 'sent' | 'skipped' | 'missing' | 'current';

let nextChannelId = 1;

/**
 * The displays of one canvas and the frame they last got. Fan-out never queues: a display still
 * busy with an earlier frame skips this one (the newest wins when it catches up), so a slow
 * screen holds at most one frame of backlog and never slows the others.
 *
 * Displays that want the same message (mode and rendition) share a topic, and a frame goes to a
 * topic in one publish: a loop of sends by default, or uWS's own publish (displays.fanOut; see
 * fan-out.ts for why the loop is the default). A topic sends to whoever is in it whatever their
 * buffer holds (up to uWS's maxBackpressure), so
 * just before each publish a display with anything still queued leaves its topic (a skipped
 * frame), and it comes back when its buffer drains, with the newest frame sent to it directly.
 */
export class Channel {
  readonly displays = new Set<Display>();
  latest: Frame | undefined;
  published = 0;
  skippedSends = 0;
  /** Displays by topic, in it or out for now. */
  private readonly topics = new Map<string, Set<Display>>();
  /** Topics are the uWS app's, shared by every canvas: each channel has its own names. */
  private readonly prefix = `canvas-${nextChannelId++}|`;
  /** MJPEG readers are HTTP responses, which uWS topics cannot reach: they always get the send loop. */
  private readonly httpFanOut = createLocalFanOut();

  constructor(private readonly fanOut: FanOut = createLocalFanOut()) {}

  private fanOutOf(mode: DisplayMode): FanOut {
    return mode === 'mjpeg' ? this.httpFanOut : this.fanOut;
  }

  /**
   * A display's topic: one per distinct message. Keyed by what messageFor() builds a message for
   * (mode and rendition), so displays that are sent the very same bytes share one.
   */
  topicOf(display: Display): string {
    return `${this.prefix}${display.mode}|${display.key}`;
  }

  add(display: Display): void {
    this.displays.add(display);
    this.group(display).add(display);
    this.join(display);
  }

  /** Its socket is closed or about to be: it gets nothing more from this channel. */
  remove(display: Display): void {
    if (!this.displays.delete(display)) return;
    this.leave(display);
    const topic = this.topicOf(display);
    const group = this.topics.get(topic);
    group?.delete(display);
    if (group?.size === 0) this.topics.delete(topic);
  }

  /** Moves a display to another rendition; it then lacks the current frame in its new size. */
  changeRendition(display: Display, spec: RenditionSpec, key: string): void {
    const member = this.displays.has(display);
    if (member) this.remove(display);
    display.spec = spec;
    display.key = key;
    display.lastSeq = 0;
    if (member) this.add(display);
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
    for (const [topic, group] of this.topics) {
      const { key, mode } = group.values().next().value as Display;
      const message = messageFor(frame, key, mode);
      if (message === undefined) {
        missing.push(...group);
        continue;
      }
      let takers = 0;
      for (const display of group) {
        if (display.lastSeq >= frame.seq) continue;
        if (display.socket.getBufferedAmount() > 0) {
          this.leave(display);
          this.skip(display, now);
        } else {
          this.join(display);
          this.took(display, frame);
          takers++;
        }
      }
      if (takers > 0) this.fanOutOf(mode).publish(topic, message, mode === 'binary');
    }
    return missing;
  }

  /** Sends `frame` to one display alone (it joined, drained, or its rendition was just made). */
  deliver(display: Display, frame: Frame, now: number): Delivery {
    if (display.lastSeq >= frame.seq) return 'current';
    const message = messageFor(frame, display.key, display.mode);
    if (message === undefined) return 'missing';
    if (display.socket.getBufferedAmount() > 0 || display.socket.send(message, display.mode === 'binary') === 2) {
      this.leave(display);
      this.skip(display, now);
      return 'skipped';
    }
    this.took(display, frame);
    return 'sent';
  }

  /** Called when a display's send buffer emptied: it is no longer blocked, and gets the newest frame it missed. */
  drained(display: Display, now: number): Delivery | undefined {
    if (display.socket.getBufferedAmount() > 0) return undefined;
    display.blockedSince = null;
    display.skippedInARow = 0;
    if (this.displays.has(display)) this.join(display);
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

  private group(display: Display): Set<Display> {
    const topic = this.topicOf(display);
    let group = this.topics.get(topic);
    if (!group) {
      group = new Set();
      this.topics.set(topic, group);
    }
    return group;
  }

  private join(display: Display): void {
    if (display.inTopic) return;
    this.fanOutOf(display.mode).subscribe(display.socket, this.topicOf(display));
    display.inTopic = true;
  }

  private leave(display: Display): void {
    if (!display.inTopic) return;
    this.fanOutOf(display.mode).unsubscribe(display.socket, this.topicOf(display));
    display.inTopic = false;
  }

  private skip(display: Display, now: number): void {
    display.skipped++;
    display.skippedInARow++;
    this.skippedSends++;
    display.blockedSince ??= now;
  }

  private took(display: Display, frame: Frame): void {
    display.sent++;
    display.skippedInARow = 0;
    display.lastSeq = frame.seq;
    display.blockedSince = null;
  }
}
