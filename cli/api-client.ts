/**
 * The CLI's side of the operator HTTP API: one JSON request at a time, with every way it can
 * fail (server down, wrong host, no token, problem+json reply, not Easel at all) turned into a
 * CliError that says what happened and what to do.
 */

export interface ApiClientOptions {
  /** Base URL without a trailing slash, e.g. http://localhost:8000. */
  server: string;
  /** Sent as `Authorization: Bearer <token>`; never printed. */
  token?: string;
  /** A request that takes longer fails with a clear message (default 15 s). */
  timeoutMs?: number;
  /** Tests may pass their own; Node's global fetch otherwise. */
  fetch?: typeof fetch;
}

/** What the CLI prints: `easel: <title>: <detail>` then `  <hint>`, and exits 1. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    readonly title: string,
    readonly detail?: string,
    readonly hint?: string,
  ) {
    super(detail ? `${title}: ${detail}` : title);
  }
}

export interface ApiClient {
  /** Resolves with the parsed JSON body (undefined when there is none); throws CliError. */
  request(method: 'GET' | 'POST' | 'DELETE', path: string, body?: unknown): Promise<unknown>;
}

const TOKEN_HINT = {
  missing: 'Set EASEL_OPERATOR_TOKEN to the operator token (configured on the server, or printed once when it starts)',
  wrong: "EASEL_OPERATOR_TOKEN does not match the server's operator token: copy it again from the server's config or start-up log",
};

/**
 * @example
 * const api = createApiClient({ server: 'http://localhost:8000', token: process.env.EASEL_OPERATOR_TOKEN });
 * const canvases = await api.request('GET', '/api/canvases');
 */
export function createApiClient(options: ApiClientOptions): ApiClient {
  const { server, token } = options;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const doFetch = options.fetch ?? fetch;

  return {
    async request(method, path, body) {
      const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      let response: Response;
      try {
        response = await doFetch(`${server}${path}`, {
          method,
          headers,
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        throw unreachable(server, err, timeoutMs);
      }
      const text = await response.text();
      const type = response.headers.get('content-type') ?? '';
      const json = type.includes('json') && text !== '' ? parseJson(text) : undefined;
      if (response.ok) {
        if (text !== '' && json === undefined) throw notEasel(server, 'answered with something that is not JSON');
        return json;
      }
      if (response.status === 401 || response.status === 403) {
        const problem = asProblem(json);
        const title = problem.title ?? (response.status === 401 ? 'Operator token required' : 'Operator token refused');
        throw new CliError(title, problem.detail, token ? TOKEN_HINT.wrong : TOKEN_HINT.missing);
      }
      if (json === undefined)
        throw notEasel(server, `answered ${method} ${path} with HTTP ${response.status} ${response.statusText}`.trim());
      const problem = asProblem(json);
      throw new CliError(problem.title ?? `HTTP ${response.status}`, problem.detail, problem.hint);
    },
  };
}

function unreachable(server: string, err: unknown, timeoutMs: number): CliError {
  if (err instanceof Error && err.name === 'TimeoutError') {
    return new CliError(
      `The Easel server at ${server} did not answer within ${Math.round(timeoutMs / 1000)} s`,
      undefined,
      'Check that the server is running and not overloaded, and that --server or EASEL_URL is right',
    );
  }
  const cause = (err as { cause?: { code?: string; message?: string; errors?: Array<{ code?: string }> } }).cause;
  const code = cause?.code ?? cause?.errors?.[0]?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return new CliError(`Cannot reach the Easel server at ${server}`, 'is it running? Set --server or EASEL_URL');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new CliError(
        `Cannot reach the Easel server at ${server}`,
        `the host "${new URL(server).hostname}" is not known`,
        'Check the host name in --server or EASEL_URL',
      );
    default: {
      if (cause?.message === 'bad port') {
        // fetch refuses the ports browsers block (6000, 6665-6669, 10080, ...): say so plainly.
        return new CliError(
          `Cannot reach the Easel server at ${server}`,
          `Node's fetch refuses port ${new URL(server).port}`,
          'Run the server on another port (the default is 8000)',
        );
      }
      const why = code ?? cause?.message ?? (err instanceof Error ? err.message : String(err));
      return new CliError(
        `Cannot reach the Easel server at ${server}`,
        why,
        'Check that it is running and that --server or EASEL_URL is right',
      );
    }
  }
}

function notEasel(server: string, what: string): CliError {
  return new CliError(
    `The server at ${server} ${what}`,
    undefined,
    'Is --server or EASEL_URL pointing at an Easel server (and not a proxy or another program)?',
  );
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function asProblem(json: unknown): { title?: string; detail?: string; hint?: string } {
  if (typeof json !== 'object' || json === null) return {};
  const { title, detail, hint } = json as Record<string, unknown>;
  return {
    ...(typeof title === 'string' ? { title } : {}),
    ...(typeof detail === 'string' ? { detail } : {}),
    ...(typeof hint === 'string' ? { hint } : {}),
  };
}
