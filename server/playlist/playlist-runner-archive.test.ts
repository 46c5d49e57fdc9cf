import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_T0, archiveDir, archiveStoreFor, frameFor, removeArchiveDirs, tinyPng } from '../../test/support/archive-fixtures.js';
import { createFakeCanvasCommands, settle } from '../../test/support/fake-canvas-commands.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import type { ArchiveStore } from '../archive/archive-entry.js';
import { archiveOff } from '../archive/archive-selection.js';
import { createPlaylistRunner, type PlaylistRunner, type PlaylistRunnerEvent } from './playlist-runner.js';
import type { ArchiveStep, Playlist, PlaylistStep } from './playlist-types.js';

/** Archive steps in the runner, over a real store: the selection is looked at when the step starts. */
const seconds = (s: number) => ({ kind: 'time' as const, ms: s * 1000 });
const archive = (selection: ArchiveStep['selection'], s: number, order?: 'shuffle'): PlaylistStep => ({
  type: 'archive',
  selection,
  ...(order && { order }),
  hold: seconds(s),
  line: 1,
});
const folder = (path: string, s: number): PlaylistStep => ({ type: 'folder', path, hold: seconds(s), line: 1 });
const playlistOf = (steps: PlaylistStep[], loop = false): Playlist => ({ name: 'replay', canvases: [], loop, at: [], steps });

const runners: PlaylistRunner[] = [];
const stores: ArchiveStore[] = [];
afterEach(async () => {
  for (const r of runners.splice(0)) r.stop();
  for (const s of stores.splice(0)) await s.close();
  removeArchiveDirs();
});

/** A store holding three frames of wall-1 (the middle one starred) and one of wall-2. */
async function storeWithFrames(): Promise<ArchiveStore> {
  const { store } = archiveStoreFor(archiveDir());
  stores.push(store);
  await store.open();
  for (let i = 0; i < 3; i++) await store.write(frameFor('wall-1', await tinyPng(`#00${i}0ff`), ARCHIVE_T0 + i * 60_000));
  await store.setStarred([...store.select({ canvas: 'wall-1' })][1]!.id, true);
  await store.write(frameFor('wall-2', await tinyPng('#ff0000'), ARCHIVE_T0));
  return store;
}

function setup(playlist: Playlist, archiveStore: ArchiveStore | undefined) {
  const clock = new FakeClock();
  const fake = createFakeCanvasCommands(clock);
  const { logger, lines } = captureLogs();
  const runner = createPlaylistRunner({
    playlist,
    slugs: ['left-canva'],
    commands: fake.commands,
    onFrame: fake.onFrame,
    clock,
    logger,
    ...(archiveStore && { archive: archiveStore }),
  });
  runners.push(runner);
  const events: PlaylistRunnerEvent[] = [];
  runner.onEvent((e) => events.push(e));
  const pass = async (s: number) => {
    for (let i = 0; i < s * 4; i++) {
      await settle();
      clock.advance(250);
    }
    await settle();
  };
  return { clock, fake, runner, events, lines, pass };
}

describe('createPlaylistRunner: archive steps', () => {
  it('sets an archive source with the selection in written form and holds it for its time', async () => {
    const store = await storeWithFrames();
    const selection = { canvas: 'wall-1', starred: true, from: ARCHIVE_T0, to: ARCHIVE_T0 + 3_600_000 };
    const { fake, runner, pass, events } = setup(playlistOf([archive(selection, 10, 'shuffle'), folder('/after', 5)]), store);
    runner.start();
    await settle();
    expect(runner.status().step).toBe(
      'archive "wall-1, starred, from 2026-12-01T18:00:00.000Z, to 2026-12-01T19:00:00.000Z" (shuffle) for 10s',
    );
    await pass(11);
    expect(fake.log()).toEqual(['0s left-canva archive', '10s left-canva folder /after']);
    expect(fake.calls[0]!.command).toEqual({
      type: 'archive',
      canvas: 'wall-1',
      starred: true,
      from: '2026-12-01T18:00:00.000Z',
      to: '2026-12-01T19:00:00.000Z',
      order: 'shuffle',
    });
    expect(events.find((e) => e.type === 'step-finished')).toMatchObject({ reason: 'time', stepIndex: 0 });
  });

  it('skips a step whose selection is empty when it starts, saying so in one line, and runs it once frames match', async () => {
    const store = await storeWithFrames();
    const steps = [archive({ canvas: 'wall-3' }, 10), folder('/next', 5)];
    const { fake, runner, pass, events, lines } = setup(playlistOf(steps, true), store);
    runner.start();
    await settle();
    expect(fake.log()).toEqual(['0s left-canva folder /next']);
    expect(events.filter((e) => e.type === 'step-finished').map((e) => 'reason' in e && e.reason)).toEqual(['skipped']);
    const skipped = lines.filter((l) => String(l.msg).includes('skipped'));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]).toMatchObject({ level: 30, step: 1, msg: expect.stringContaining('no archived frames match (wall-3)') });

    // Frames of wall-3 arrive: the next pass plays the step.
    await store.write(frameFor('wall-3', await tinyPng(), ARCHIVE_T0));
    await pass(6);
    expect(fake.log()).toEqual(['0s left-canva folder /next', '5s left-canva archive']);
  });

  it('never spins when every step of a looping playlist is empty: one step a pass is held for its time', async () => {
    const store = await storeWithFrames();
    const steps = [archive({ canvas: 'none-1' }, 4), archive({ canvas: 'none-2' }, 4)];
    const { fake, runner, pass, events, lines } = setup(playlistOf(steps, true), store);
    fake.fail('archive', new Error('No archived frames match'));
    runner.start();
    await pass(20);
    const started = events.filter((e) => e.type === 'step-started').length;
    // Held 4 s once per pass of skips: about 5 holds in 20 s, each after two skips.
    expect(started).toBeGreaterThanOrEqual(9);
    expect(started).toBeLessThanOrEqual(20);
    expect(runner.status().state).toBe('running');
    expect(lines.some((l) => l.level === 40 && String(l.msg).includes('no step has anything to show'))).toBe(true);
  });

  it('without an archive, the step fails at its start with a clear line and is held for its time', async () => {
    const { fake, runner, pass, lines, events } = setup(playlistOf([archive({ canvas: 'wall-1' }, 6), folder('/b', 5)]), undefined);
    fake.fail('archive', archiveOff());
    runner.start();
    await pass(7);
    expect(fake.log()).toEqual(['0s left-canva archive', '6s left-canva folder /b']);
    const warning = lines.find((l) => l.level === 40);
    expect(warning?.msg).toMatch(/step 1 failed on "left-canva": This server keeps no archive \(archive.dir is ""\)/);
    expect(warning).toMatchObject({ code: 'EASEL_ERR_REQUEST_INVALID', hint: expect.stringContaining('archive.dir') });
    expect(events.find((e) => e.type === 'error')).toMatchObject({ slug: 'left-canva', error: { code: 'EASEL_ERR_REQUEST_INVALID' } });
  });
});
