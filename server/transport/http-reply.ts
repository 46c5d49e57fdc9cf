import type { HttpResponse } from 'uWebSockets.js';

const STATUS_TEXT: Record<number, string> = {
  200: 'OK',
  201: 'Created',
  202: 'Accepted',
  304: 'Not Modified',
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  421: 'Misdirected Request',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  404: 'Not Found',
  429: 'Too Many Requests',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

export function statusLine(status: number): string {
  return `${status} ${STATUS_TEXT[status] ?? 'Unknown'}`;
}

/** Writes a whole JSON reply. Only call it while the response is corked (inside a uWS handler). */
export function replyJson(
  res: HttpResponse,
  status: number,
  body: unknown,
  contentType = 'application/json',
  headers: Record<string, string> = {},
): void {
  res.writeStatus(statusLine(status)).writeHeader('content-type', `${contentType}; charset=utf-8`).writeHeader('cache-control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
  res.end(JSON.stringify(body));
}

/** What a problem reply says: what went wrong, and what to do. */
export interface Problem {
  title: string;
  detail: string;
  hint: string;
  code?: string;
}

/** An RFC 9457 problem reply with a hint a technician can act on. */
export function replyProblem(res: HttpResponse, status: number, problem: Problem, headers?: Record<string, string>): void {
  replyJson(res, status, { type: 'about:blank', status, ...problem }, 'application/problem+json', headers);
}

/**
 * A problem reply that also closes the connection: for refusals made to save descriptors, where
 * a keep-alive connection left open would hold on to the very thing being saved.
 */
export function refuseAndClose(res: HttpResponse, status: number, problem: Problem, headers: Record<string, string> = {}): void {
  res
    .writeStatus(statusLine(status))
    .writeHeader('content-type', 'application/problem+json; charset=utf-8')
    .writeHeader('cache-control', 'no-store');
  for (const [k, v] of Object.entries(headers)) res.writeHeader(k, v);
  res.end(JSON.stringify({ type: 'about:blank', status, ...problem }), true);
}
