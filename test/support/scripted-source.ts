import type { Source, SourceImage, SourceStatus } from '../../server/stream/source.js';

interface Call {
  signal: AbortSignal;
  resolve: (image: SourceImage) => void;
  reject: (err: unknown) => void;
}

/**
 * A source the test answers by hand: each next() waits until the test gives an image or an
 * error, and rejects with the signal's reason when aborted, as the Source contract says.
 */
export function createScriptedSource(kind = 'scripted') {
  const calls: Call[] = [];
  let waiting: Call | undefined;
  const rejected: Array<{ image: SourceImage; err: Error }> = [];
  let closed = 0;

  const answer = (fn: (call: Call) => void) => {
    const call = waiting;
    if (!call) throw new Error('Expected a next() call waiting, but none is');
    waiting = undefined;
    fn(call);
  };

  const source: Source = {
    kind,
    next(signal) {
      return new Promise<SourceImage>((resolve, reject) => {
        const call: Call = { signal, resolve, reject };
        calls.push(call);
        if (signal.aborted) return reject(signal.reason);
        waiting = call;
        signal.addEventListener(
          'abort',
          () => {
            if (waiting === call) waiting = undefined;
            reject(signal.reason);
          },
          { once: true },
        );
      });
    },
    reject(image, err) {
      rejected.push({ image, err });
    },
    status: (): SourceStatus => ({ state: 'ok' }),
    async close() {
      closed++;
    },
  };

  return {
    source,
    /** Every next() call so far, answered or not. */
    calls,
    rejected,
    get closed() {
      return closed;
    },
    /** True while a next() call waits for an answer. */
    get asked() {
      return waiting !== undefined;
    },
    give: (image: SourceImage) => answer((call) => call.resolve(image)),
    fail: (err: Error) => answer((call) => call.reject(err)),
  };
}

let nextId = 1;

/** A source image of `data` with a fresh id. */
export const imageOf = (data: Buffer, source = 'scripted'): SourceImage => ({
  id: `image-${nextId++}`,
  data,
  source,
  createdAt: 1_700_000_000_000,
});
