import type { HttpResponse } from 'uWebSockets.js';
import type { DisplaySocket } from '../canvas/channel.js';
import { MJPEG_PADDING } from '../stream/mjpeg-part.js';

export interface MjpegSocket extends DisplaySocket {
  /** True once the response is over (ended, closed, or the reader left). */
  readonly done: boolean;
  /** The reader left (onAborted): nothing more is written. */
  aborted(): void;
}

export interface MjpegSocketOptions {
  /** Its queue emptied after a part could not be written whole: it may take the newest frame. */
  onDrained: () => void;
  /** The response is over from our side (end or close): the reader is let go. */
  onFinished: () => void;
  /** An exception in a uWS callback would end the process: it is reported here instead. */
  onError: (err: unknown) => void;
}

/**
 * An MJPEG reader's HTTP response seen as a display's socket, so the channel's fan-out, skipping
 * and stuck-closing apply as they are. uWS.js tells an HTTP response's queue only by a write
 * returning false (the rest is kept in uWS's buffer) and offers no buffered amount; and with
 * onWritable set, uWS drains that buffer only when the handler writes. So a reader whose write
 * failed counts as busy (the channel then skips it), and each writable event writes a blank line
 * (allowed between parts): uWS flushes what it holds first, and the blank line going through
 * whole says the queue is empty. A busy reader thus holds at most one part queued, never more.
 */
export function createMjpegSocket(res: HttpResponse, options: MjpegSocketOptions): MjpegSocket {
  let done = false;
  /** Bytes of the part whose write failed, while uWS may still hold some of them; 0 when not busy. */
  let pending = 0;

  const finish = () => {
    if (done) return;
    done = true;
    pending = 0;
    options.onFinished();
  };

  res.onWritable(() => {
    try {
      if (done || pending === 0) return true;
      let flushed = false;
      res.cork(() => {
        flushed = res.write(MJPEG_PADDING);
      });
      if (!flushed) return false;
      pending = 0;
      options.onDrained();
    } catch (err) {
      options.onError(err);
    }
    return true;
  });

  return {
    get done() {
      return done;
    },
    aborted() {
      // uWS let go of the response: it may not be touched again.
      finish();
    },
    getBufferedAmount: () => pending,
    send(message) {
      if (done) return 2;
      let whole = false;
      res.cork(() => {
        whole = res.write(message);
      });
      if (whole) return 1;
      pending = typeof message === 'string' ? Buffer.byteLength(message) : message.byteLength;
      return 0;
    },
    end() {
      if (done) return;
      // The chunked body's last chunk, then the connection is closed: a reader that reconnects
      // (VLC, OBS) does so on a fresh one.
      res.cork(() => res.end(undefined, true));
      finish();
    },
    close() {
      if (done) return;
      finish();
      res.close();
    },
    // The channel keeps MJPEG readers in its own send loop (channel.ts): uWS topics are not used.
    subscribe: () => false,
    unsubscribe: () => false,
  };
}
