import { mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createFakeCanvasCommands, settle } from '../../test/support/fake-canvas-commands.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { isEaselError } from '../errors.js';
import { createPlaylistManager, type PlaylistManager, type PlaylistManagerEvent } from './playlist-manager.js';

const HTTP = { via: 'http', who: '127.0.0.1' } as const;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const folders: string[] = [];
const managers: PlaylistManager[] = [];
afterEach(async () => {
  await Promise.all(managers.splice(0).map((m) => m.close()));
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

const STILLS = 'loop: true\nsteps:\n  - still: a.png\n    duration: 10s\n  - still: b.png\n    duration: 10s\n';
const PAUSE = 'steps:\n  - pause:\n    duration: 1m\n';
const EVENING = 'canvases: [left-canva, right-canva]\nat: "18:30"\nloop: true\nsteps:\n  - prompt: "dusk"\n    duration: 1m\n';

async function setup(files: Record<string, string>, start = new Date(2024, 5, 3, 18, 0)) {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-manager-'));
  folders.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(path.join(dir, name), text);
  const clock = new FakeClock(start.getTime());
  const fake = createFakeCanvasCommands(clock);
  const { logger, lines } = captureLogs();
  const manager = createPlaylistManager({
    dir,
    commands: fake.commands,
    onFrame: fake.onFrame,
    clock,
    logger,
    store: { removeGraceMs: 0, rescanIntervalMs: 24 * HOUR },
  });
  managers.push(manager);
  const events: PlaylistManagerEvent[] = [];
  manager.onEvent((e) => events.push(e));
  await manager.ready;
  const write = (name: string, text: string) => writeFileSync(path.join(dir, name), text);
  return { dir, clock, fake, manager, events, lines, write };
}

describe('createPlaylistManager', () => {
  it('starts a playlist on one canvas, reports where it is, and stops it', async () => {
    const { manager, fake, clock } = await setup({ 'stills.yaml': STILLS });
    const status = await manager.start('left-canva', 'stills', HTTP);
    expect(status).toMatchObject({ playlist: 'stills', slugs: ['left-canva'], stepIndex: 0, stepCount: 2, state: 'running' });
    await settle();
    clock.advance(10_000);
    await settle();
    expect(manager.status('left-canva')).toMatchObject({ stepIndex: 1, step: expect.stringMatching(/^still ".*b\.png" for 10s$/) });
    expect(manager.running()).toHaveLength(1);
    expect(manager.stop('left-canva', HTTP)).toBe(true);
    expect(manager.status('left-canva')).toBeNull();
    expect(manager.stop('left-canva')).toBe(false);
    expect(fake.log().map((l) => l.replace(/\/\S*\//, '/'))).toEqual(['0s left-canva still /a.png', '10s left-canva still /b.png']);
  });

  it('says why a playlist cannot start: unknown, never valid, or a bad canvas slug', async () => {
    const { manager } = await setup({ 'broken.yaml': 'steps:\n  - pause: 5s\n', 'stills.yaml': STILLS });
    const unknown = await manager.start('left-canva', 'nope', HTTP).catch((e: unknown) => e);
    expect(isEaselError(unknown, 'EASEL_ERR_NOT_FOUND')).toBe(true);
    expect((unknown as { hint: string }).hint).toBe('Known playlists: broken, stills');
    const broken = await manager.start('left-canva', 'broken', HTTP).catch((e: unknown) => e);
    expect(broken).toMatchObject({ code: 'EASEL_ERR_PLAYLIST_INVALID', line: 2, column: 12 });
    const slug = await manager.start('Left Canva', 'stills', HTTP).catch((e: unknown) => e);
    expect(isEaselError(slug, 'EASEL_ERR_SLUG_INVALID')).toBe(true);
  });

  it('replaces the playlist on a canvas, resuming it if the old one had paused it', async () => {
    const { manager, fake, events } = await setup({ 'quiet.yaml': PAUSE, 'stills.yaml': STILLS });
    await manager.start('left-canva', 'quiet', HTTP);
    await settle();
    await manager.start('left-canva', 'stills', HTTP);
    await settle();
    expect(fake.log().map((l) => l.replace(/\/\S*\//, '/'))).toEqual([
      '0s left-canva pause',
      '0s left-canva resume',
      '0s left-canva still /a.png',
    ]);
    expect(manager.status('left-canva')).toMatchObject({ playlist: 'stills' });
    expect(
      events.filter((e) => e.type === 'started' || e.type === 'stopped').map((e) => `${e.type} ${'playlist' in e ? e.playlist : ''}`),
    ).toEqual(['started quiet', 'stopped quiet', 'started stills']);
  });

  it('starts a scheduled playlist at its time on all its canvases', async () => {
    const { manager, clock, fake, events } = await setup({ 'evening.yaml': EVENING });
    expect(manager.schedule()).toEqual([
      { name: 'evening', canvases: ['left-canva', 'right-canva'], at: ['18:30'], next: new Date(2024, 5, 3, 18, 30).toISOString() },
    ]);
    clock.advance(29 * MINUTE);
    expect(manager.status('left-canva')).toBeNull();
    clock.advance(MINUTE);
    await settle();
    expect(manager.status('left-canva')).toMatchObject({ playlist: 'evening', slugs: ['left-canva', 'right-canva'] });
    expect(manager.status('right-canva')).toMatchObject({ playlist: 'evening' });
    expect(fake.log()).toEqual(['1800s left-canva prompt dusk', '1800s right-canva prompt dusk']);
    expect(events.find((e) => e.type === 'started')).toMatchObject({ origin: { via: 'config', who: 'schedule' } });
  });

  it('starts a playlist whose time has passed today at that time tomorrow', async () => {
    const { manager, clock } = await setup({ 'evening.yaml': EVENING }, new Date(2024, 5, 3, 19, 0));
    clock.advance(23 * HOUR + 29 * MINUTE);
    expect(manager.status('left-canva')).toBeNull();
    clock.advance(MINUTE);
    expect(manager.status('left-canva')).toMatchObject({ playlist: 'evening' });
  });

  it('follows a running playlist file: a new version at the next step, a broken one ignored, a deleted one stopped', async () => {
    const { manager, clock, fake, write, dir } = await setup({ 'stills.yaml': STILLS });
    await manager.start('left-canva', 'stills', HTTP);
    write('stills.yaml', 'loop: true\nsteps:\n  - still: a.png\n    duration: 10s\n  - still: c.png\n    duration: 5s\n');
    await manager.store.rescan();
    clock.advance(10_000);
    await settle();
    expect(manager.status('left-canva')).toMatchObject({ stepIndex: 1, step: expect.stringMatching(/c\.png" for 5s$/) });
    write('stills.yaml', 'loop: true\nsteps:\n  - still: a.png\n    durashun: 10s\n');
    await manager.store.rescan();
    clock.advance(5_000);
    await settle();
    expect(manager.status('left-canva')).toMatchObject({ stepIndex: 0, stepCount: 2, loopCount: 1 });
    unlinkSync(path.join(dir, 'stills.yaml'));
    await manager.store.rescan();
    expect(manager.status('left-canva')).toBeNull();
    expect(fake.log().map((l) => l.replace(/\/\S*\//, '/'))).toEqual([
      '0s left-canva still /a.png',
      '10s left-canva still /c.png',
      '15s left-canva still /a.png',
    ]);
  });

  it('stops every playlist on close, resuming paused canvases, and closes once', async () => {
    const { manager, fake, clock } = await setup({ 'quiet.yaml': PAUSE, 'evening.yaml': EVENING });
    await manager.start('lobby', 'quiet', HTTP);
    await settle();
    await Promise.all([manager.close(), manager.close()]);
    expect(fake.log()).toEqual(['0s lobby pause', '0s lobby resume']);
    expect(manager.running()).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
    const late = await manager.start('lobby', 'quiet', HTTP).catch((e: unknown) => e);
    expect(isEaselError(late, 'EASEL_ERR_SERVER_CLOSING')).toBe(true);
  });
});
