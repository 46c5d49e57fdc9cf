/**
 * `easel` — the technician's command line: status, prompt, next, pause, resume, playlist.
 * It only talks to the operator HTTP API (docs/api.md), so it works from any machine that can
 * reach the server; `timelapse` alone reads the archive folder on this machine instead. main.ts runs it (`npx easel`, compiled to dist/cli/main.js); exit codes:
 * 0 done, 1 the server said no or cannot be reached, 2 a mistake on the command line.
 */
import { createApiClient, CliError, type ApiClient } from './api-client.js';
import { parseCliArgs, USAGE, UsageError, type CliCommand } from './args.js';
import { formatStatusTable } from './status-table.js';
import { runTimelapse } from './timelapse.js';

export interface CliIo {
  env: Record<string, string | undefined>;
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown };
  /** Tests may pass their own; Node's global fetch otherwise. */
  fetch?: typeof fetch;
  now?: () => number;
}

/**
 * Runs one command and resolves with the exit code; never throws and never calls process.exit,
 * so output written to a pipe is flushed before the process ends.
 *
 * @example
 * process.exitCode = await runCli(process.argv.slice(2), { env: process.env, stdout: process.stdout, stderr: process.stderr });
 */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const print = (text: string) => io.stdout.write(`${text}\n`);
  try {
    const { command, server, token } = parseCliArgs(argv, io.env);
    if (command.name === 'help') {
      print(USAGE);
      return 0;
    }
    // Reads the archive folder, not the API: the server need not run.
    if (command.name === 'timelapse') return await runTimelapse(command, io);
    const api = createApiClient({ server, ...(token ? { token } : {}), ...(io.fetch ? { fetch: io.fetch } : {}) });
    print(await execute(command, api, io.now ?? Date.now));
    return 0;
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`easel: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    if (err instanceof CliError) {
      io.stderr.write(`easel: ${err.message}\n${err.hint ? `  ${err.hint}\n` : ''}`);
      return 1;
    }
    io.stderr.write(`easel: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}

/** Sends the command and says in one line what happened. */
async function execute(command: Exclude<CliCommand, { name: 'help' | 'timelapse' }>, api: ApiClient, now: () => number): Promise<string> {
  const canvas = (slug: string) => `/api/canvases/${encodeURIComponent(slug)}`;
  switch (command.name) {
    case 'status': {
      const body = await api.request('GET', command.slug ? canvas(command.slug) : '/api/canvases');
      return command.json ? JSON.stringify(body, null, 2) : formatStatusTable(body, now());
    }
    case 'prompt': {
      const { slug, prompt, seed, steps } = command;
      const body = await api.request('POST', `${canvas(slug)}/prompt`, {
        prompt,
        ...(seed === undefined ? {} : { seed }),
        ...(steps === undefined ? {} : { steps }),
      });
      const reply = body as { job?: { id?: unknown }; id?: unknown } | undefined;
      const id = reply?.job?.id ?? reply?.id;
      return `Queued ${typeof id === 'string' ? `job ${id}` : 'a job'} on ${slug}: "${prompt}"`;
    }
    case 'pause':
      await api.request('POST', `${canvas(command.slug)}/pause`);
      return `Paused ${command.slug}`;
    case 'resume':
      await api.request('POST', `${canvas(command.slug)}/resume`);
      return `Resumed ${command.slug}`;
    case 'next':
      await api.request('POST', `${canvas(command.slug)}/next`);
      return `Asked ${command.slug} for its next frame`;
    case 'playlist':
      await api.request('POST', `${canvas(command.slug)}/playlist`, { name: command.playlist });
      return `Started playlist "${command.playlist}" on ${command.slug}`;
    case 'remove':
      await api.request('DELETE', canvas(command.slug));
      return `Removed ${command.slug}`;
    case 'playlist-stop':
      await api.request('DELETE', `${canvas(command.slug)}/playlist`);
      return `Stopped the playlist on ${command.slug}`;
  }
}
