import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createEaselServer, type EaselServer } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { captureLogs } from './log-capture.js';

export interface TestServer {
  server: EaselServer;
  port: number;
  ws(slugAndQuery: string): string;
  http(pathname: string): string;
  logs: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** A temporary folder removed again by the returned function. */
export function tempFolder(prefix = 'easel-test-'): { dir: string; remove: () => void } {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * The real server, in this process, on an ephemeral loopback port, configured only through
 * EASEL_* variables (as an operator would) and never through process.env.
 */
export async function startTestServer(env: Record<string, string> = {}): Promise<TestServer> {
  const configDir = mkdtempSync(path.join(tmpdir(), 'easel-config-'));
  // Playlists from an empty folder of its own, so the shipped examples never start in a test;
  // no state file unless a test names one, so no test inherits another's pauses and prompts.
  // No archive unless a test names a folder: no test writes one into the checkout.
  const config = loadConfig({
    env: {
      EASEL_PORT: '0',
      EASEL_HOST: '127.0.0.1',
      EASEL_CANVASES: '[]',
      EASEL_PLAYLISTS_DIR: configDir,
      EASEL_STATE_FILE: '',
      EASEL_ARCHIVE_DIR: '',
      ...env,
    },
    argv: [],
    configDir,
  });
  const { logger, lines } = captureLogs('debug');
  const server = createEaselServer({ config, logger });
  const port = await server.listen();
  return {
    server,
    port,
    ws: (s) => `ws://127.0.0.1:${port}/ws/${s}`,
    http: (p) => `http://127.0.0.1:${port}${p}`,
    logs: lines,
    async close() {
      await server.close();
      rmSync(configDir, { recursive: true, force: true });
    },
  };
}
