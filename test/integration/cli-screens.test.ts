import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/run.js';
import type { ReportMessage } from '../../protocol/wire.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

/**
 * `easel status <slug>` against the real server: two screens speaking easel.v2 report their
 * clock sync as Easel's page does, a seed client asks for nothing, and the CLI prints each.
 */

const TOKEN = 'cli-screens-token';
let server: TestServer;
const images = tempFolder('easel-cli-screens-');
const clients: DisplayClient[] = [];

beforeAll(async () => {
  putImage(images.dir, 'a.png', await solidPng('#336699', 64, 64));
  server = await startTestServer({
    EASEL_OPERATOR_TOKEN: TOKEN,
    EASEL_FOLDER: images.dir,
    EASEL_LOG_LEVEL: 'warn',
    EASEL_CANVASES: JSON.stringify([{ slug: 'lobby', source: { type: 'folder' } }]),
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server?.close();
  images.remove();
});

async function screen(protocols?: string[]): Promise<DisplayClient> {
  const client = new DisplayClient(server.ws('lobby'), protocols);
  clients.push(client);
  await client.opened;
  return client;
}

const report = (client: DisplayClient, r: Omit<ReportMessage, 'type'>) =>
  client.socket.send(JSON.stringify({ type: 'report', ...r } satisfies ReportMessage));

async function easel(args: string[], env: Record<string, string>) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env,
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
  });
  return { code, stdout, stderr };
}

describe('easel status <slug>, against the real server', () => {
  it('lists every screen of the canvas with its clock sync, the uncertain one first and marked', async () => {
    const [steady, shaky] = await Promise.all([screen(), screen()]);
    await screen([]); // the seed's client: JSON frames, never a report
    report(steady!, { offsetMs: 1.5, rttMs: 3, errorMs: 1.5, shown: 120, late: 0 });
    report(shaky!, { offsetMs: -3_720_000, rttMs: 80, errorMs: 40, shown: 118, late: 2 });
    const reported = async () => {
      const body = (await (await fetch(server.http('/api/canvases/lobby'))).json()) as { displayList: Array<{ sync: unknown }> };
      return body.displayList.filter((d) => d.sync !== null).length;
    };
    await expect.poll(reported).toBe(2);

    const { code, stdout, stderr } = await easel(['status', 'lobby'], { EASEL_URL: server.http(''), EASEL_OPERATOR_TOKEN: TOKEN });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const lines = stdout.trimEnd().split('\n');
    const at = lines.indexOf('Screens (3, 1 marked !), worst first:');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]).toMatch(/^SCREEN +PROTOCOL +RENDITION +CLOCK OFFSET +ROUND TRIP +ERROR +LATE\/SHOWN +NOTE$/);
    const [worst, middle, best] = lines.slice(at + 2);
    expect(worst).toMatch(
      /^! 127\.0\.0\.1 +v2 +\S+ +\u22121 h 2 min +80 ms +±40 ms +2\/118 +this screen's clock is uncertain to ±40 ms: check its network/,
    );
    expect(middle).toMatch(/^127\.0\.0\.1 +JSON +\S+ +- +- +- +- +no sync report \(seed or v1 client\)$/);
    expect(best).toMatch(/^127\.0\.0\.1 +v2 +\S+ +\+1\.5 ms +3 ms +±1\.5 ms +0\/120$/);
  });

  it('shows screens by id, not address, to a reader without the operator token', async () => {
    const { code, stdout } = await easel(['status', 'lobby'], { EASEL_URL: server.http('') });
    expect(code).toBe(0);
    expect(stdout).not.toContain('127.0.0.1');
    expect(stdout).toMatch(/\n! display \d+ +v2 /);
  });

  it('keeps the last good report when a screen sends a malformed one', async () => {
    const [steady] = clients;
    steady!.socket.send(JSON.stringify({ type: 'report', offsetMs: 'soon', rttMs: -1, errorMs: null, shown: 1.5, late: -2 }));
    steady!.socket.send('{"type":"report","offsetMs":');
    // A round trip through the same socket: once the pong is back, the bad report has been read.
    steady!.socket.send(JSON.stringify({ type: 'ping', t0: 1 }));
    await expect.poll(() => steady!.json().some((m) => m.type === 'pong')).toBe(true);
    const { stdout } = await easel(['status', 'lobby'], { EASEL_URL: server.http(''), EASEL_OPERATOR_TOKEN: TOKEN });
    expect(stdout).toContain('Screens (3, 1 marked !)');
    expect(stdout).toMatch(/\+1\.5 ms +3 ms +±1\.5 ms +0\/120/);
  });
});
