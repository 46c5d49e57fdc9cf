import type { HttpRequest } from 'uWebSockets.js';
import { sameToken, tokenFingerprint } from '../api/auth.js';
import type { AuthFailures } from '../api/auth-failures.js';
import type { HostPolicy } from '../api/host-policy.js';

export interface DisplayAccessOptions {
  displayToken: string;
  operatorToken?: (() => string | undefined) | undefined;
  authFailures?: AuthFailures | undefined;
  hosts?: HostPolicy | undefined;
}

/** Why an upgrade is refused, ready to be answered as a problem. */
export interface Refusal {
  status: number;
  problem: { title: string; detail: string; hint: string; code: string };
  headers?: Record<string, string>;
}

/**
 * A server with a display token streams only to whoever brings it: answered from a name this
 * server has (DNS rebinding), from a page of this server or an allowed host (a page on another
 * site could otherwise embed the wall with a token it was given), and with the display or the
 * operator token, unless the address has been guessing tokens.
 */
export function createDisplayAccess(options: DisplayAccessOptions) {
  const { displayToken, hosts, authFailures } = options;

  return function check(req: HttpRequest, query: URLSearchParams, address: string): Refusal | undefined {
    const host = req.getHeader('host');
    const origin = req.getHeader('origin');
    if (hosts && !hosts.hostAllowed(host || undefined)) {
      return {
        status: 421,
        problem: {
          title: 'Host not allowed',
          detail: `Host "${host.slice(0, 200)}" is not a name this server answers to`,
          hint: "Use the server's address or host name, or add this name to http.allowedHosts (EASEL_ALLOWED_HOSTS)",
          code: 'EASEL_ERR_HOST_NOT_ALLOWED',
        },
      };
    }
    if (hosts && !hosts.originAllowed(origin || undefined, host || undefined)) {
      return {
        status: 403,
        problem: {
          title: 'Request from another site refused',
          detail: `A page from ${JSON.stringify(origin.slice(0, 200))} may not open displays on this server`,
          hint: "Open the display page on this server (/c/<slug>), or add the page's host to http.allowedHosts",
          code: 'EASEL_ERR_ORIGIN_NOT_ALLOWED',
        },
      };
    }
    const presented = query.get('token') ?? '';
    const wait = presented ? (authFailures?.waitSeconds(address) ?? 0) : 0;
    if (wait > 0) {
      return {
        status: 429,
        problem: {
          title: 'Too many wrong tokens',
          detail: `Too many wrong tokens from this address: wait ${wait} s`,
          hint: 'Use the right display token (EASEL_DISPLAY_TOKEN)',
          code: 'EASEL_ERR_AUTH_THROTTLED',
        },
        headers: { 'retry-after': String(wait) },
      };
    }
    const operatorToken = options.operatorToken?.();
    if (presented && (sameToken(presented, displayToken) || (operatorToken !== undefined && sameToken(presented, operatorToken)))) {
      authFailures?.succeeded(address);
      return undefined;
    }
    const hint = 'Open the page with ?token=<the display token> (EASEL_DISPLAY_TOKEN); the page passes it on';
    if (!presented) {
      return {
        status: 401,
        problem: {
          title: 'Display token required',
          detail: 'This server only streams to displays that bring its display token',
          hint,
          code: 'EASEL_ERR_AUTH_REQUIRED',
        },
      };
    }
    // As the HTTP routes answer: 401 without a token, 403 with a wrong one.
    authFailures?.failed(address, tokenFingerprint(presented));
    return {
      status: 403,
      problem: { title: 'Wrong display token', detail: 'The display token is not right', hint, code: 'EASEL_ERR_AUTH_INVALID' },
    };
  };
}
