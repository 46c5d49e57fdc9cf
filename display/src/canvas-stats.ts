import type { ConnectionState } from './connection-state.js';
import type { FrameHeader } from '../../protocol/wire.js';

/** Counters a test (or a technician in DevTools) can read to see that memory stays flat. */
export interface PresenterStats {
  framesReceived: number;
  framesShown: number;
  /** Frames never shown: replaced by a newer one before their decode or their time, or too many waiting. */
  framesDropped: number;
  /** Frames shown after their `presentAt` (more than half a refresh): decoded too late, or a refresh missed. */
  framesLate: number;
  /** Frames shown at once because their `presentAt` was absurdly far ahead: the clock estimate is off. */
  framesEarly: number;
  decodeErrors: number;
  /** ImageBitmaps decoded and not yet handed to a layer or closed. */
  liveBitmaps: number;
  peakLiveBitmaps: number;
}

/** What `el.stats` of an `<easel-canvas>` holds: enough to see from outside that frames flow and memory stays flat. */
export interface EaselCanvasStats extends PresenterStats {
  state: ConnectionState;
  connects: number;
  disconnects: number;
  badMessages: number;
  bytesReceived: number;
  /** The display's wall clock minus the server's clock. */
  clockOffsetMs: number | null;
  rttMs: number | null;
  /** How far the clock estimate may be off. */
  clockErrorMs: number | null;
  /** When the image on screen went on it, epoch ms on the server's clock; null before a frame or a clock estimate. */
  shownAt: number | null;
  lastFrame: Pick<FrameHeader, 'seq' | 'imageId' | 'timestamp' | 'presentAt' | 'mime' | 'width' | 'height'> | null;
}
