import { createSocket, type Socket } from 'node:dgram';
import { once } from 'node:events';
import { Bundle, Client } from 'node-osc';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { captureLogs } from '../../test/support/log-capture.js';
import { EaselError, isEaselError } from '../errors.js';
import type { CanvasCommands, CommandOrigin, JobSnapshot } from './command-types.js';
import { createOscListener, type OscListener } from './osc-listener.js';

type Call = [method: string, ...args: unknown[]];

/** Records every command; `failWith` makes the next calls throw, as the real commands do. */
function fakeCommands() {
  const calls: Call[] = [];
  const state = { failWith: undefined as Error | undefined };
  const record = (method: string, ...args: unknown[]) => {
    calls.push([method, ...args]);
    if (state.failWith) throw state.failWith;
  };
  const job: JobSnapshot = {
    id: 'job-1',
    slug: 'left-canva',
    prompt: '',
    count: 1,
    produced: 0,
    state: 'queued',
    createdAt: new Date(0).toISOString(),
  };
  const unused = () => {
    throw new Error('not used over OSC');
  };
  const commands: CanvasCommands = {
    list: () => [],
    get: unused,
    setPrompt: async (slug, command, origin) => (record('setPrompt', slug, command, origin), job),
    showStill: unused,
    setSource: unused,
    pause: (slug, origin) => record('pause', slug, origin),
    resume: (slug, origin) => record('resume', slug, origin),
    next: (slug, origin) => record('next', slug, origin),
    startPlaylist: async (slug, name, origin) => record('startPlaylist', slug, name, origin),
    stopPlaylist: (slug, origin) => record('stopPlaylist', slug, origin),
    cancelJob: unused,
    job: unused,
  };
  return { commands, calls, state };
}

const fromOsc: CommandOrigin = { via: 'osc', who: expect.stringMatching(/^127\.0\.0\.1:\d+$/) as unknown as string };

describe('createOscListener', () => {
  let fake: ReturnType<typeof fakeCommands>;
  let logs: ReturnType<typeof captureLogs>;
  let clock: { t: number };
  let osc: OscListener;
  let client: Client;

  beforeEach(async () => {
    fake = fakeCommands();
    logs = captureLogs();
    clock = { t: 1_000_000 };
    osc = await createOscListener({ host: '127.0.0.1', port: 0, commands: fake.commands, logger: logs.logger, now: () => clock.t });
    client = new Client('127.0.0.1', osc.port);
  });

  afterEach(async () => {
    await client.close();
    await osc.close();
  });

  const warnings = () => logs.lines.filter((l) => l.level === 40);

  it('binds port 0 to a free port and reads it back', () => {
    expect(osc.port).toBeGreaterThan(0);
  });

  it('changes a canvas prompt from /easel/<slug>/prompt, naming the sender', async () => {
    await client.send('/easel/left-canva/prompt', 'a red boat at dusk');
    await vi.waitFor(() => expect(fake.calls).toEqual([['setPrompt', 'left-canva', { prompt: 'a red boat at dusk' }, fromOsc]]));
    expect(osc.stats).toEqual({ messages: 1, commands: 1, ignored: 0, failed: 0 });
    await vi.waitFor(() => expect(osc.results).toEqual({ ok: 1, malformed: 0, unknown_canvas: 0, refused: 0 }));
  });

  it('runs next, pause, resume, playlist and playlist/stop', async () => {
    const messages: unknown[][] = [
      ['/easel/a/next'],
      ['/easel/a/pause', 1],
      ['/easel/a/resume', true],
      ['/easel/a/playlist', 'evening'],
      ['/easel/a/playlist/stop'],
    ];
    // One at a time: UDP keeps no order, and the assertion below names one.
    for (const [i, message] of messages.entries()) {
      await client.send(message);
      await vi.waitFor(() => expect(fake.calls).toHaveLength(i + 1), { interval: 5 });
    }
    await vi.waitFor(() =>
      expect(fake.calls).toEqual([
        ['next', 'a', fromOsc],
        ['pause', 'a', fromOsc],
        ['resume', 'a', fromOsc],
        ['startPlaylist', 'a', 'evening', fromOsc],
        ['stopPlaylist', 'a', fromOsc],
      ]),
    );
  });

  it('runs every message of a bundle, nested bundles included', async () => {
    await client.send(new Bundle(['/easel/a/prompt', 'fog'], ['/easel/b/next'], new Bundle(['/easel/c/pause'])));
    await vi.waitFor(() =>
      expect(fake.calls.map((c) => c.slice(0, 2))).toEqual([
        ['setPrompt', 'a'],
        ['next', 'b'],
        ['pause', 'c'],
      ]),
    );
    expect(osc.stats).toMatchObject({ messages: 3, commands: 3, ignored: 0 });
  });

  it('ignores and counts a bad slug and an unknown address, logging that kind once a minute', async () => {
    for (let i = 0; i < 3; i++) await client.send('/easel/Left Canva/next');
    await client.send('/easel/a/jump');
    await vi.waitFor(() => expect(osc.stats.ignored).toBe(4));
    expect(fake.calls).toEqual([]);
    expect(osc.results).toEqual({ ok: 0, malformed: 4, unknown_canvas: 0, refused: 0 });
    expect(warnings().map((l) => l.msg)).toEqual([
      'Ignoring an OSC message: Invalid canvas slug "Left Canva": it may hold only lowercase letters a-z, digits and dashes',
    ]);

    clock.t += 60_000;
    await client.send('/easel/a/jump');
    await vi.waitFor(() => expect(warnings()).toHaveLength(2));
    expect(warnings()[1]).toMatchObject({
      suppressed: 3,
      from: expect.stringMatching(/^127\.0\.0\.1:/),
      msg: expect.stringContaining('Unknown OSC address "/easel/a/jump"'),
    });
  });

  it('ignores wrong arguments, bytes that are not OSC, and messages addressed like node-osc events', async () => {
    await client.send('/easel/a/playlist', 3);
    for (const address of ['error', 'message', 'bundle']) await client.send(address, 1);
    const raw: Socket = createSocket('udp4');
    raw.send(Buffer.from('not osc at all'), osc.port, '127.0.0.1');
    await vi.waitFor(() => expect(osc.stats.ignored).toBe(5));
    expect(osc.stats.messages).toBe(4);
    raw.close();
    expect(fake.calls).toEqual([]);
    await client.send('/easel/a/next');
    await vi.waitFor(() => expect(fake.calls).toEqual([['next', 'a', fromOsc]]));
  });

  it('does nothing for a button release (0 or false)', async () => {
    await client.send('/easel/a/next', 0);
    await client.send('/easel/a/next', 1);
    await vi.waitFor(() => expect(fake.calls).toHaveLength(1));
    expect(osc.stats).toMatchObject({ messages: 2, commands: 1, ignored: 0 });
  });

  it('logs a failing command with its code and hint, and counts it', async () => {
    fake.state.failWith = new EaselError('EASEL_ERR_NOT_FOUND', 'No playlist "nope"', { hint: 'GET /api/playlists lists them' });
    await client.send('/easel/a/playlist', 'nope');
    await client.send('/easel/a/next');
    await vi.waitFor(() => expect(osc.stats.failed).toBe(2));
    // One line for the kind (its code); the second failure is counted, not logged.
    expect(warnings()).toEqual([
      expect.objectContaining({
        msg: 'OSC command failed: No playlist "nope"',
        code: 'EASEL_ERR_NOT_FOUND',
        hint: 'GET /api/playlists lists them',
        address: '/easel/a/playlist',
      }),
    ]);
    expect(osc.results).toMatchObject({ refused: 2, unknown_canvas: 0 });
    fake.state.failWith = new EaselError('EASEL_ERR_NOT_FOUND', 'No canvas "b"', { hint: 'GET /api/canvases lists them' });
    await client.send('/easel/b/next');
    await vi.waitFor(() => expect(osc.results).toMatchObject({ refused: 2, unknown_canvas: 1 }));
    expect(warnings()).toHaveLength(1);
  });

  it('closes idempotently and stops running commands', async () => {
    await Promise.all([osc.close(), osc.close()]);
    await client.send('/easel/a/next');
    expect(fake.calls).toEqual([]);
  });
});

describe('createOscListener on a port in use', () => {
  it('fails with EASEL_ERR_OSC_LISTEN_FAILED and a hint naming osc.port', async () => {
    const holder = createSocket('udp4');
    holder.bind(0, '127.0.0.1');
    await once(holder, 'listening');
    const port = holder.address().port;
    const err = await createOscListener({ host: '127.0.0.1', port, commands: fakeCommands().commands, logger: captureLogs().logger }).catch(
      (e: unknown) => e,
    );
    holder.close();
    expect(isEaselError(err, 'EASEL_ERR_OSC_LISTEN_FAILED')).toBe(true);
    expect((err as EaselError).message).toBe(`Cannot listen for OSC on UDP 127.0.0.1:${port}: EADDRINUSE`);
    expect((err as EaselError).hint).toContain('osc.port');
  });
});
