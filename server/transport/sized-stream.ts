import type { Readable } from 'node:stream';
import type { HttpResponse } from 'uWebSockets.js';

export interface SizedStreamOptions {
  /** The client left (the caller's onAborted): the response may not be touched again. */
  aborted: () => boolean;
  /** Bytes handed to uWS, as they go (metrics). */
  onBytes?: (bytes: number) => void;
  /** Why the stream closed early, when its producer knows (a file that vanished). */
  failure?: () => string | undefined;
}

export interface SizedStreamOutcome {
  ok: boolean;
  why?: string;
  /** Bytes the client was sent (all of them when ok). */
  bytes: number;
}

/**
 * Sends a stream of known length as a response body (status and headers written already),
 * with uWS's backpressure: each chunk goes through tryEnd, and when uWS cannot take one whole
 * the stream pauses and the rest is offered again from onWritable, so a slow client holds the
 * producer back instead of uWS buffering for it. The stream coming out shorter or failing ends
 * the connection (the client sees a body shorter than its Content-Length); the stream is
 * destroyed whatever happens, so whatever feeds it lets go.
 */
export function sendSized(res: HttpResponse, stream: Readable, total: number, options: SizedStreamOptions): Promise<SizedStreamOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    /** Bytes uWS took whole; the response may not be touched once ended or aborted. */
    let taken = 0;
    /** The chunk uWS has not taken whole yet, and the response offset it began at. */
    let held: { chunk: Buffer; from: number } | undefined;

    const settle = (ok: boolean, why?: string) => {
      if (settled) return;
      settled = true;
      if (!ok && !options.aborted()) res.close();
      // A HEAD request ends at the first tryEnd: the rest need not be read.
      stream.destroy();
      resolve({ ok, ...(why !== undefined && { why }), bytes: ok ? total : taken });
    };
    const offer = (chunk: Buffer): boolean => {
      let ok = false;
      let done = false;
      res.cork(() => {
        [ok, done] = res.tryEnd(chunk, total);
      });
      if (done) settle(true);
      else if (ok) taken = res.getWriteOffset();
      return ok || done;
    };

    stream.on('data', (chunk: Buffer) => {
      if (options.aborted() || settled) return;
      const from = res.getWriteOffset();
      options.onBytes?.(chunk.length);
      if (offer(chunk)) return;
      held = { chunk, from };
      stream.pause();
    });
    res.onWritable((offset) => {
      if (!held || settled) return true;
      const ok = offer(held.chunk.subarray(offset - held.from));
      if (ok && !settled) {
        held = undefined;
        stream.resume();
      }
      return ok;
    });
    // The last chunk may still be held for onWritable, which then ends the response.
    stream.on('end', () => {
      if (!held) settle(false, options.failure?.() ?? 'the body came out shorter than announced');
    });
    stream.on('close', () => {
      if (options.aborted()) settle(false, 'the client left');
      else if (!(stream.readableEnded && held)) settle(false, options.failure?.() ?? 'the body stream closed early');
    });
    stream.on('error', (err) => settle(false, options.failure?.() ?? err.message));
  });
}
