import type { HttpRequest, HttpResponse, TemplatedApp, WebSocketBehavior } from 'uWebSockets.js';
import type { Logger } from '../logger.js';
import { headResponse } from './head-response.js';
import { replyProblem } from './http-reply.js';

type HttpHandler = (res: HttpResponse, req: HttpRequest) => void | Promise<void>;

const HTTP_METHODS = ['get', 'post', 'put', 'del', 'patch', 'options', 'head', 'connect', 'trace', 'any'] as const;
const SOCKET_EVENTS = ['open', 'message', 'dropped', 'drain', 'close', 'ping', 'pong', 'subscription'] as const;

export interface RegisteredRoute {
  method: (typeof HTTP_METHODS)[number] | 'ws';
  pattern: string;
}

export interface GuardedApp {
  /** The app to register routes on: every handler it is given runs inside a guard. */
  readonly app: TemplatedApp;
  /** Every route registered so far, in order (tests walk them with malformed input). */
  readonly routes: readonly RegisteredRoute[];
  /** Handler exceptions caught since start: each one is a bug, logged with its route. */
  readonly caught: number;
}

/**
 * An exception thrown out of a uWS callback ends the whole process (uWS.js rethrows it as
 * uncaught), so one bad request would drop every display on the wall. Every HTTP handler and
 * WebSocket callback registered through this app is wrapped: an exception is logged once with
 * its route and answered with a 500 problem (or the socket closed with 1011), and the server
 * goes on. Rejected promises from async handlers are caught the same way.
 */
export interface GuardOptions {
  /**
   * Asked before every HTTP handler and WebSocket upgrade, with the route's pattern: false means
   * it has answered the request itself (a refusal) and the handler is not run.
   */
  admit?: (res: HttpResponse, pattern: string) => boolean;
}

export function guardApp(app: TemplatedApp, logger: Logger, options: GuardOptions = {}): GuardedApp {
  const routes: RegisteredRoute[] = [];
  let caught = 0;
  const log = logger.child({ component: 'http' });

  const failed = (route: string, err: unknown) => {
    caught++;
    log.error({ err, route }, 'Unexpected error in a request handler: answered 500, the server goes on');
  };

  const answer500 = (res: HttpResponse) => {
    try {
      res.cork(() =>
        replyProblem(res, 500, {
          title: 'Internal error',
          detail: 'Something went wrong inside Easel while answering this request',
          hint: 'The server log has the details; the wall is not affected',
        }),
      );
    } catch {
      // Already answered, upgraded or aborted: nothing more can be said on this response.
    }
  };

  // Every argument is passed on: an upgrade handler's third one is the socket context uWS needs.
  const wrapHttp = <H extends HttpHandler | NonNullable<WebSocketBehavior<unknown>['upgrade']>>(
    route: string,
    handler: H,
    pattern: string,
  ): H => {
    return ((res: HttpResponse, req: HttpRequest, ...rest: unknown[]) => {
      try {
        if (options.admit && !options.admit(res, pattern)) return;
        const result = (handler as (...a: unknown[]) => void | Promise<void>)(res, req, ...rest);
        if (result && typeof result.then === 'function') {
          result.then(undefined, (err: unknown) => {
            failed(route, err);
            answer500(res);
          });
        }
      } catch (err) {
        failed(route, err);
        answer500(res);
      }
    }) as H;
  };

  const wrapSocketEvent = <A extends unknown[]>(route: string, event: string, fn: (...args: A) => unknown) => {
    return (...args: A) => {
      const ws = args[0] as { end(code?: number, reason?: string): void };
      const onError = (err: unknown) => {
        failed(`${route} (${event})`, err);
        if (event === 'close') return;
        try {
          ws.end(1011, 'Internal error');
        } catch {
          // The socket is already closed.
        }
      };
      try {
        const result = fn(...args) as Promise<unknown> | undefined;
        if (result && typeof result.then === 'function') result.then(undefined, onError);
      } catch (err) {
        onError(err);
      }
    };
  };

  const guarded = new Proxy(app, {
    get(target, prop, receiver) {
      if ((HTTP_METHODS as readonly PropertyKey[]).includes(prop)) {
        const method = prop as (typeof HTTP_METHODS)[number];
        return (pattern: string, handler: HttpHandler) => {
          routes.push({ method, pattern });
          if (method === 'any') {
            // HEAD to a path with no GET route (the 404) must not carry a body either.
            const anyHandler: HttpHandler = (res, req) => handler(req.getMethod().toLowerCase() === 'head' ? headResponse(res) : res, req);
            target.any(pattern, wrapHttp(`ANY ${pattern}`, anyHandler, pattern));
            return receiver;
          }
          target[method](pattern, wrapHttp(`${method.toUpperCase()} ${pattern}`, handler, pattern));
          // Every GET answers HEAD too (health checks, proxies, curl -I), with the same headers.
          if (method === 'get')
            target.head(
              pattern,
              wrapHttp(`HEAD ${pattern}`, (res, req) => handler(headResponse(res), req), pattern),
            );
          return receiver;
        };
      }
      if (prop === 'ws') {
        return (pattern: string, behavior: WebSocketBehavior<unknown>) => {
          routes.push({ method: 'ws', pattern });
          const wrapped: WebSocketBehavior<unknown> = { ...behavior };
          if (behavior.upgrade) wrapped.upgrade = wrapHttp(`WS ${pattern} (upgrade)`, behavior.upgrade, pattern);
          for (const event of SOCKET_EVENTS) {
            const fn = behavior[event] as ((...args: unknown[]) => unknown) | undefined;
            if (fn) (wrapped as Record<string, unknown>)[event] = wrapSocketEvent(`WS ${pattern}`, event, fn);
          }
          target.ws(pattern, wrapped);
          return receiver;
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });

  return {
    app: guarded,
    routes,
    get caught() {
      return caught;
    },
  };
}
