import type { HttpResponse } from 'uWebSockets.js';
import { createLogLimiter } from '../log-limiter.js';
import type { Logger } from '../logger.js';
import type { FdGuard } from './fd-guard.js';
import { refuseAndClose } from './http-reply.js';

/** Answered even at the edge: a load balancer or Prometheus must still see the truth. */
const ALWAYS_ANSWERED = new Set(['/healthz', '/readyz', '/metrics']);

export interface Admission {
  /** For guardApp: refuses (503, connection closed) while descriptors run short. */
  admit(res: HttpResponse, pattern: string): boolean;
  /** Requests refused for want of descriptors, since start. */
  readonly refused: number;
}

export function createAdmission(options: { guard: FdGuard; logger: Logger; now: () => number }): Admission {
  const log = options.logger.child({ component: 'http' });
  const limiter = createLogLimiter({ now: options.now });
  let refused = 0;

  return {
    get refused() {
      return refused;
    },
    admit(res, pattern) {
      if (ALWAYS_ANSWERED.has(pattern) || options.guard.admit()) return true;
      refused++;
      const { open, limit, headroom } = options.guard.status();
      const suppressed = limiter.take('fd-headroom');
      if (suppressed !== undefined) {
        log.warn(
          { open, limit, headroom, suppressed, code: 'EASEL_ERR_LIMIT_REACHED' },
          `Refusing new connections: ${open} of ${limit} file descriptors are open, and ${headroom} are kept for the canvases`,
        );
      }
      refuseAndClose(
        res,
        503,
        {
          title: 'Limit reached',
          detail: `The server is within ${headroom} of its ${limit} file descriptors and takes no new connections`,
          hint: 'Too many connections are held open (displays, event streams): find the client holding them, or raise the open-files limit (LimitNOFILE, ulimit -n)',
          code: 'EASEL_ERR_LIMIT_REACHED',
        },
        { 'retry-after': '5' },
      );
      return false;
    },
  };
}
