import type { ConnectionState } from './connection-state.js';
import type { FrameHeader } from '../../protocol/wire.js';

/** Counters a test (or a technician in DevTools) can read to see that memory stays flat. */
export interface PresenterStats {
  framesReceived: number;
  framesShown: number;
  /** Frames replaced by a newer one before they could be decoded: the newest wins. */
  framesDropped: number;
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
  clockOffsetMs: number | null;
  rttMs: number | null;
  lastFrame: Pick<FrameHeader, 'seq' | 'imageId' | 'timestamp' | 'mime' | 'width' | 'height'> | null;
}
