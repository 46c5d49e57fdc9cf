import { readScreenList, type ScreenEntry } from '../../../protocol/screen-sync.js';
import { isCanvasInfo, isJobInfo, playlistList, type CanvasInfo, type JobInfo, type PlaylistInfo } from './api-types.js';

/**
 * An error reply of the operator API (RFC 9457 problem+json, with Easel's `hint`), or a request
 * that never got one (`status` 0: the server could not be reached).
 */
export class ApiProblem extends Error {
  override readonly name = 'ApiProblem';
  readonly status: number;
  readonly title: string;
  readonly detail: string | undefined;
  readonly hint: string | undefined;
  readonly code: string | undefined;
  /** The request field at fault, for validation errors. */
  readonly field: string | undefined;

  constructor(problem: {
    status: number;
    title: string;
    detail?: string | undefined;
    hint?: string | undefined;
    code?: string | undefined;
    field?: string | undefined;
  }) {
    super(problem.detail ? `${problem.title}: ${problem.detail}` : problem.title);
    this.status = problem.status;
    this.title = problem.title;
    this.detail = problem.detail;
    this.hint = problem.hint;
    this.code = problem.code;
    this.field = problem.field;
  }

  /** The token is missing (401) or wrong (403): the console asks for it again. */
  get isAuth(): boolean {
    return this.status === 401 || this.status === 403;
  }
}

export interface OperatorApiOptions {
  /** Base URL of the Easel server; the page's own origin when left out. */
  server?: string;
  /** The operator token sent as `Authorization: Bearer`; none is sent when empty. */
  token(): string;
  /** A request that takes longer fails with a problem saying so (default 15 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export type CanvasAction = 'pause' | 'resume' | 'next';

export interface OperatorApi {
  /**
   * Resolves when the server would accept `token` for commands; rejects with its ApiProblem
   * (401/403 with the hint, 429, unreachable) when not. Changes nothing on the server.
   */
  checkToken(token: string): Promise<void>;
  canvases(): Promise<CanvasInfo[]>;
  /** The screens of one canvas (`displayList` of `GET /api/canvases/:slug`), as the server lists them. */
  screens(slug: string): Promise<ScreenEntry[]>;
  /** Resolves with the job that reports the prompt's progress. */
  prompt(slug: string, prompt: string): Promise<JobInfo>;
  /** Resolves with the canvas as it is after the command. */
  act(slug: string, action: CanvasAction): Promise<CanvasInfo | undefined>;
  startPlaylist(slug: string, name: string): Promise<CanvasInfo | undefined>;
  stopPlaylist(slug: string): Promise<CanvasInfo | undefined>;
  cancelJob(id: string): Promise<JobInfo | undefined>;
  job(id: string): Promise<JobInfo | undefined>;
  /** null when the server has no playlist API (404). */
  playlists(): Promise<PlaylistInfo[] | null>;
}

const UNREACHABLE_HINT = 'Check that the Easel server is running and that this device is on its network';

/**
 * The console's side of the operator HTTP API: JSON in and out, every failure an ApiProblem
 * with a hint a technician can act on.
 *
 * @example
 * const api = createOperatorApi({ token: () => localStorage.getItem('easel.operatorToken') ?? '' });
 * const job = await api.prompt('left-canva', 'a red boat');
 */
export function createOperatorApi(options: OperatorApiOptions): OperatorApi {
  const request = createApiRequest(options);
  const canvasPath = (slug: string) => `/api/canvases/${encodeURIComponent(slug)}`;

  const canvasOrNothing = (body: unknown) => (isCanvasInfo(body) ? body : undefined);
  const jobOf = (body: unknown) => {
    const job = (body as { job?: unknown } | undefined)?.job;
    return isJobInfo(job) ? job : undefined;
  };

  return {
    async checkToken(token) {
      // A body, so the check passes the same content-type rules as a real command.
      await request('POST', '/api/auth/check', {}, token);
    },
    async canvases() {
      const body = await request('GET', '/api/canvases');
      const list = (body as { canvases?: unknown } | undefined)?.canvases;
      return Array.isArray(list) ? list.filter(isCanvasInfo) : [];
    },
    screens: async (slug) => readScreenList(await request('GET', canvasPath(slug))),
    async prompt(slug, prompt) {
      const job = jobOf(await request('POST', `${canvasPath(slug)}/prompt`, { prompt }));
      if (!job)
        throw new ApiProblem({
          status: 502,
          title: 'The server accepted the prompt but sent no job',
          hint: 'The event feed still shows its progress',
        });
      return job;
    },
    act: async (slug, action) => canvasOrNothing(await request('POST', `${canvasPath(slug)}/${action}`)),
    startPlaylist: async (slug, name) => canvasOrNothing(await request('POST', `${canvasPath(slug)}/playlist`, { name })),
    stopPlaylist: async (slug) => canvasOrNothing(await request('DELETE', `${canvasPath(slug)}/playlist`)),
    cancelJob: async (id) => jobOf(await request('DELETE', `/api/jobs/${encodeURIComponent(id)}`)),
    job: async (id) => jobOf(await request('GET', `/api/jobs/${encodeURIComponent(id)}`)),
    async playlists() {
      try {
        return playlistList(await request('GET', '/api/playlists'));
      } catch (err) {
        if (err instanceof ApiProblem && err.status === 404) return null;
        throw err;
      }
    },
  };
}

/** One request to the Easel API: JSON in and out, every failure an ApiProblem. `token` overrides options.token(). */
export type ApiRequest = (method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown, token?: string) => Promise<unknown>;

/** The request function every API client of the pages shares (the console's, the gallery's). */
export function createApiRequest(options: OperatorApiOptions): ApiRequest {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const doFetch = options.fetch ?? ((input: RequestInfo | URL, init?: RequestInit) => fetch(input, init));
  return async function request(method, path, body, token = options.token()) {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const url = options.server ? new URL(path, options.server).href : path;
    let response: Response;
    try {
      response = await doFetch(url, {
        method,
        headers,
        cache: 'no-store',
        signal: AbortSignal.timeout(timeoutMs),
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    } catch (err) {
      const timedOut = err instanceof Error && err.name === 'TimeoutError';
      throw new ApiProblem({
        status: 0,
        title: timedOut ? 'The Easel server did not answer' : 'Cannot reach the Easel server',
        detail: timedOut ? `No reply within ${Math.round(timeoutMs / 1000)} s` : undefined,
        hint: UNREACHABLE_HINT,
      });
    }
    const text = await response.text().catch(() => '');
    const json = parseJson(text);
    if (response.ok) return json;
    throw problemFrom(response, json);
  };
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function problemFrom(response: Response, json: unknown): ApiProblem {
  const p = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const fallbackHint =
    response.status === 401 || response.status === 403
      ? 'Enter the operator token: EASEL_OPERATOR_TOKEN on the server, or the one it printed at start'
      : response.status >= 500
        ? 'The server log says more'
        : undefined;
  return new ApiProblem({
    status: response.status,
    title: str(p.title) ?? `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`,
    detail: str(p.detail),
    hint: str(p.hint) ?? fallbackHint,
    code: str(p.code),
    field: str(p.field),
  });
}
