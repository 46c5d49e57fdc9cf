import type { InferenceClientStatus, InferenceImage, InferenceRequest } from '../../server/inference/client.js';

/** One Generate call the code under test made; the test decides what the "service" answers. */
export interface FakeCall {
  readonly request: InferenceRequest;
  readonly signal: AbortSignal;
  /** Streams `count` images (bytes: `data`, default a valid-looking marker). */
  send(count?: number, data?: Buffer): void;
  /** Ends the call with this error after what was sent. */
  fail(err: unknown): void;
  /** Ends the call normally after what was sent. */
  end(): void;
  /** True once the caller stopped reading (finished, failed, aborted or broke out). */
  readonly settled: boolean;
}

type Event = { kind: 'image'; data: Buffer } | { kind: 'fail'; err: unknown } | { kind: 'end' };

/**
 * A stand-in for InferenceClient.generate with no network: each call waits for the test to
 * send images, and throws the signal's reason when aborted, as the real client does.
 */
export function createFakeInferenceClient(defaultData: Buffer = Buffer.from('image')) {
  const calls: FakeCall[] = [];
  const listeners = new Set<(status: InferenceClientStatus) => void>();

  function generate(request: InferenceRequest, options: { signal?: AbortSignal } = {}): AsyncIterable<InferenceImage> {
    const signal = options.signal ?? new AbortController().signal;
    const events: Event[] = [];
    let wake: (() => void) | undefined;
    let settled = false;
    let sent = 0;
    const push = (event: Event) => {
      events.push(event);
      wake?.();
    };
    const requestId = `req-${calls.length + 1}`;
    calls.push({
      request,
      signal,
      send: (count = 1, data = defaultData) => {
        for (let i = 0; i < count; i += 1) push({ kind: 'image', data });
      },
      fail: (err) => push({ kind: 'fail', err }),
      end: () => push({ kind: 'end' }),
      get settled() {
        return settled;
      },
    });
    signal.addEventListener('abort', () => wake?.(), { once: true });
    return (async function* () {
      try {
        for (;;) {
          signal.throwIfAborted();
          const event = events.shift();
          if (!event) {
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
            continue;
          }
          if (event.kind === 'end') return;
          if (event.kind === 'fail') throw event.err;
          const index = sent++;
          yield {
            data: event.data,
            mime: 'image/jpeg',
            width: 64,
            height: 64,
            index,
            requestId,
            seed: (request.seed ?? 1000) + index,
            inferenceMs: 10,
            endpoint: 'fake:1',
          };
        }
      } finally {
        settled = true;
      }
    })();
  }

  return {
    calls,
    generate,
    onChange(listener: (status: InferenceClientStatus) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    /** Tells subscribers the client's state changed, as endpoints going up or down do. */
    emitChange(state: InferenceClientStatus['state']) {
      for (const listener of listeners) listener({ state, endpoints: [] });
    },
  };
}
