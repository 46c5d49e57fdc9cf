import type { HttpResponse, RecognizedString } from 'uWebSockets.js';

const byteLength = (body: RecognizedString | undefined) =>
  body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;

/**
 * A GET handler's response, answered as HEAD: uWS routes HEAD to no GET handler (health checks
 * and proxies got a 404) and writes whatever body a handler ends with. Through this wrapper the
 * handler runs unchanged; the status and headers go out with the Content-Length the body would
 * have had, and no body. A streaming handler (SSE) ends at its first write and is then told the
 * client has gone, as if it had disconnected, so it lets go of what it subscribed to.
 */
export function headResponse(res: HttpResponse): HttpResponse {
  let ended = false;
  const abortHandlers: Array<() => void> = [];
  const finish = (length: number | undefined, streaming: boolean) => {
    if (ended) return;
    ended = true;
    // endWithoutBody(n) of this uWS build never counts the response as sent (it waits for n
    // bytes), and endWithoutBody(undefined) neither: say the length as a header instead.
    if (length !== undefined) res.writeHeader('content-length', String(length));
    res.endWithoutBody();
    if (streaming)
      queueMicrotask(() => {
        for (const handler of abortHandlers) handler();
      });
  };
  const proxy: HttpResponse = new Proxy(res, {
    get(target, prop) {
      switch (prop) {
        case 'end':
          return (body?: RecognizedString) => {
            finish(byteLength(body), false);
            return proxy;
          };
        case 'endWithoutBody':
          return (length?: number) => {
            finish(length, false);
            return proxy;
          };
        case 'tryEnd':
          return (_body: RecognizedString, total: number) => {
            finish(total, false);
            return [true, true];
          };
        case 'write':
          return () => {
            finish(undefined, true);
            return true;
          };
        case 'writeStatus':
        case 'writeHeader':
          return (...args: unknown[]) => {
            if (!ended) (target[prop] as (...a: unknown[]) => unknown)(...args);
            return proxy;
          };
        case 'cork':
          // A finished response may not be touched again; the callback still runs (and writes nothing).
          return (callback: () => void) => {
            if (ended) callback();
            else target.cork(callback);
            return proxy;
          };
        case 'onAborted':
          return (handler: () => void) => {
            abortHandlers.push(handler);
            target.onAborted(handler);
            return proxy;
          };
        default: {
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
        }
      }
    },
    set(target, prop, value) {
      return Reflect.set(target, prop, value, target);
    },
  });
  return proxy;
}
