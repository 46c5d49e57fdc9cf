import { afterEach, describe, expect, it } from 'vitest';
import { createFakeCanvasCommands, settle } from '../../test/support/fake-canvas-commands.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { EaselError } from '../errors.js';
import { createPlaylistRunner, type PlaylistRunner, type PlaylistRunnerEvent, type PlaylistRunnerOptions } from './playlist-runner.js';
import type { Playlist, PlaylistStep } from './playlist-types.js';

const seconds = (s: number) => ({ kind: 'time' as const, ms: s * 1000 });
const frames = (count: number) => ({ kind: 'frames' as const, count });
const prompt = (text: string, hold: PlaylistStep['hold'], extra: Partial<PlaylistStep> = {}): PlaylistStep =>
  ({ type: 'prompt', prompt: text, seedWalk: false, hold, line: 1, ...extra }) as PlaylistStep;
const folder = (path: string, hold: PlaylistStep['hold']): PlaylistStep => ({ type: 'folder', path, hold, line: 1 });
const still = (path: string, s: number): PlaylistStep => ({ type: 'still', path, hold: seconds(s), line: 1 });
const pause = (s: number): PlaylistStep => ({ type: 'pause', hold: seconds(s), line: 1 });
const playlistOf = (steps: PlaylistStep[], loop = false): Playlist => ({ name: 'show', canvases: [], loop, at: [], steps });

const runners: PlaylistRunner[] = [];
afterEach(() => {
  for (const r of runners.splice(0)) r.stop();
});

function setup(playlist: Playlist, slugs = ['left-canva'], overrides: Partial<PlaylistRunnerOptions> = {}) {
  const clock = new FakeClock();
  const fake = createFakeCanvasCommands(clock);
  const { logger, lines } = captureLogs();
  const runner = createPlaylistRunner({ playlist, slugs, commands: fake.commands, onFrame: fake.onFrame, clock, logger, ...overrides });
  runners.push(runner);
  const events: PlaylistRunnerEvent[] = [];
  runner.onEvent((e) => events.push(e));
  /** Moves the fake clock on in quarter seconds, letting the command chain run between. */
  const pass = async (s: number) => {
    for (let i = 0; i < s * 4; i++) {
      await settle();
      clock.advance(250);
    }
    await settle();
  };
  return { clock, fake, runner, events, lines, pass };
}

describe('createPlaylistRunner', () => {
  it('runs the steps in order, holding each for its duration, as the playlist', async () => {
    const { fake, runner, events, pass, clock } = setup(
      playlistOf([prompt('harbour', seconds(10)), folder('/imgs', seconds(5)), still('/logo.png', 3), pause(4)]),
    );
    runner.start();
    await settle();
    expect(runner.status()).toMatchObject({
      playlist: 'show',
      stepIndex: 0,
      stepCount: 4,
      step: 'prompt "harbour" for 10s',
      loopCount: 0,
      state: 'running',
    });
    await pass(25);
    expect(fake.log()).toEqual([
      '0s left-canva prompt harbour',
      '10s left-canva folder /imgs',
      '15s left-canva still /logo.png',
      '18s left-canva pause',
      '22s left-canva resume',
    ]);
    expect(fake.calls.every((c) => c.origin.via === 'playlist' && c.origin.who === 'show')).toBe(true);
    // A prompt step names its 1-based step, so the images it makes carry it into the archive.
    expect(fake.calls[0]!.origin).toEqual({ via: 'playlist', who: 'show', step: 1 });
    expect(events.filter((e) => e.type === 'step-started').map((e) => 'stepIndex' in e && e.stepIndex)).toEqual([0, 1, 2, 3]);
    expect(events.at(-1)).toMatchObject({ type: 'ended', playlist: 'show', loopCount: 0 });
    expect(runner.status().state).toBe('ended');
    expect(clock.pendingTimers).toBe(0);
    await expect(runner.done).resolves.toBeUndefined();
  });

  it('begins at a saved step and pass when told to (a show picked up after a restart), and at the first when that step is gone', async () => {
    const steps = [folder('/a', seconds(5)), folder('/b', seconds(5)), folder('/c', seconds(5))];
    const { fake, runner, pass } = setup(playlistOf(steps, true), ['left-canva'], { from: { stepIndex: 2, loopCount: 3 } });
    runner.start();
    await settle();
    expect(runner.status()).toMatchObject({ stepIndex: 2, loopCount: 3 });
    await pass(6);
    expect(fake.log()).toEqual(['0s left-canva folder /c', '5s left-canva folder /a']);
    expect(runner.status()).toMatchObject({ stepIndex: 0, loopCount: 4 });
    const shrunk = setup(playlistOf(steps.slice(0, 1)), ['left-canva'], { from: { stepIndex: 2, loopCount: 0 } });
    shrunk.runner.start();
    expect(shrunk.runner.status()).toMatchObject({ stepIndex: 0 });
  });

  it('passes the prompt options and reports when a timed step ends', async () => {
    const { fake, runner, clock } = setup(
      playlistOf([prompt('harbour', seconds(45), { negativePrompt: 'text', seed: 7, steps: 2, drift: 0.3 } as Partial<PlaylistStep>)]),
    );
    runner.start();
    await settle();
    expect(fake.calls[0]!.command).toEqual({ prompt: 'harbour', negativePrompt: 'text', seed: 7, steps: 2, drift: 0.3 });
    expect(runner.status()).toMatchObject({
      stepEndsAt: new Date(clock.now() + 45_000).toISOString(),
      stepStartedAt: new Date(clock.now()).toISOString(),
    });
  });

  it('holds a frames step until every canvas has shown that many new frames', async () => {
    const { fake, runner, pass } = setup(playlistOf([prompt('stars', frames(3)), still('/end.png', 5)]), ['left-canva', 'right-canva']);
    runner.start();
    await settle();
    expect(fake.calls[0]!.command).toMatchObject({ count: 3 });
    await pass(20); // time alone does not end it
    expect(fake.log()).toEqual(['0s left-canva prompt stars', '0s right-canva prompt stars']);
    fake.frames('left-canva', 3);
    fake.frames('right-canva', 2);
    expect(runner.status()).toMatchObject({ stepIndex: 0, frames: { shown: 2, of: 3 } });
    fake.frames('right-canva', 1);
    await settle();
    expect(runner.status()).toMatchObject({ stepIndex: 1 });
    expect(fake.log().slice(2)).toEqual(['20s left-canva still /end.png', '20s right-canva still /end.png']);
    expect(fake.listening('left-canva') + fake.listening('right-canva')).toBe(0);
  });

  it('loops, counting passes, with a fixed seed repeating and a seed walk moving on', async () => {
    const steps = [
      prompt('a', seconds(2), { seed: 5 } as Partial<PlaylistStep>),
      prompt('b', seconds(3), { seed: 100, seedWalk: true } as Partial<PlaylistStep>),
    ];
    const { fake, runner, pass, events } = setup(playlistOf(steps, true));
    runner.start();
    await pass(11);
    expect(fake.log()).toEqual([
      '0s left-canva prompt a',
      '2s left-canva prompt b',
      '5s left-canva prompt a',
      '7s left-canva prompt b',
      '10s left-canva prompt a',
    ]);
    const seeds = fake.calls.map((c) => (c.command as { seed?: number }).seed);
    expect(seeds).toEqual([5, 100, 5, 10_100, 5]);
    expect(runner.status()).toMatchObject({ stepIndex: 0, loopCount: 2, state: 'running' });
    expect(events.some((e) => e.type === 'ended')).toBe(false);
  });

  it('gives each canvas its own seed walk when no seed is set', async () => {
    const { fake, runner } = setup(playlistOf([prompt('a', seconds(2), { seedWalk: true } as Partial<PlaylistStep>)]), [
      'left-canva',
      'right-canva',
    ]);
    runner.start();
    await settle();
    const [left, right] = fake.calls.map((c) => (c.command as { seed?: number }).seed);
    expect(left).toEqual(expect.any(Number));
    expect(left).not.toBe(right);
  });

  it('resumes the canvas it paused when stopped mid-pause, and then does nothing more', async () => {
    const { fake, runner, pass, clock, events } = setup(playlistOf([pause(30), folder('/imgs', seconds(5))], true));
    runner.start();
    await pass(10);
    runner.stop();
    expect(fake.log()).toEqual(['0s left-canva pause', '10s left-canva resume']);
    expect(clock.pendingTimers).toBe(0);
    await pass(60);
    expect(fake.calls).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ type: 'stopped', slugs: ['left-canva'] });
    expect(runner.status().state).toBe('stopped');
    runner.stop(); // idempotent
    expect(fake.calls).toHaveLength(2);
  });

  it('keeps the show going when a command fails: logged once, every step still held for its time', async () => {
    const { fake, runner, pass, lines, events } = setup(playlistOf([prompt('a', seconds(10)), prompt('b', seconds(10))], true));
    fake.fail(
      'prompt',
      new EaselError('EASEL_ERR_INFERENCE_NOT_CONFIGURED', 'No inference service is configured', {
        hint: 'Start Easel with --inference host:port',
      }),
    );
    runner.start();
    await pass(60);
    expect(fake.log()).toEqual([
      '0s left-canva prompt a',
      '10s left-canva prompt b',
      '20s left-canva prompt a',
      '30s left-canva prompt b',
      '40s left-canva prompt a',
      '50s left-canva prompt b',
      '60s left-canva prompt a',
    ]);
    const warnings = lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(2); // one per step, not one per loop
    expect(warnings[0]).toMatchObject({
      code: 'EASEL_ERR_INFERENCE_NOT_CONFIGURED',
      hint: 'Start Easel with --inference host:port',
      slug: 'left-canva',
      step: 1,
    });
    expect(String(warnings[0]!.msg)).toMatch(/step 1 failed on "left-canva": No inference service is configured; the show goes on/);
    expect(events.filter((e) => e.type === 'error')).toHaveLength(7);
    expect(runner.status()).toMatchObject({ state: 'running', loopCount: 3 });
  });

  it('holds a frames step whose command failed for as long as its frames would take', async () => {
    const { fake, runner, pass } = setup(playlistOf([prompt('a', frames(40)), pause(5)]), ['left-canva'], { nominalFps: 4 });
    fake.fail('prompt', new Error('boom'));
    runner.start();
    await pass(12);
    expect(fake.log()).toEqual(['0s left-canva prompt a', '10s left-canva pause']);
  });

  it('moves on from a frames step when no frame comes for frameStallMs, with one warning', async () => {
    const { fake, runner, pass, lines } = setup(playlistOf([folder('/imgs', frames(100)), pause(5)]), ['left-canva'], {
      frameStallMs: 8000,
    });
    runner.start();
    await pass(3);
    fake.frames('left-canva', 5); // frames keep it alive...
    await pass(7);
    expect(fake.log()).toEqual(['0s left-canva folder /imgs']);
    await pass(2); // ...until 8 s without one
    expect(fake.log()).toEqual(['0s left-canva folder /imgs', '11s left-canva pause']);
    expect(lines.filter((l) => String(l.msg).includes('no new frame'))).toHaveLength(1);
  });

  it('takes a new version of the playlist at the next step boundary', async () => {
    const { fake, runner, pass, events } = setup(playlistOf([still('/a.png', 10), still('/b.png', 10), still('/c.png', 10)]));
    runner.start();
    await pass(5);
    runner.replace(playlistOf([still('/a2.png', 10), still('/b2.png', 4)], true));
    expect(runner.status().step).toBe('still "/a.png" for 10s'); // the current step runs out
    await pass(16);
    expect(fake.log()).toEqual(['0s left-canva still /a.png', '10s left-canva still /b2.png', '14s left-canva still /a2.png']);
    expect(events.some((e) => e.type === 'reloaded')).toBe(true);
    expect(runner.status()).toMatchObject({ stepCount: 2, loopCount: 1 });
  });

  it('lets one canvas go while the others carry on', async () => {
    const { fake, runner, pass } = setup(playlistOf([pause(10), still('/a.png', 10)]), ['left-canva', 'right-canva']);
    runner.start();
    await pass(2);
    runner.stop('left-canva');
    await pass(10);
    expect(fake.log()).toEqual([
      '0s left-canva pause',
      '0s right-canva pause',
      '2s left-canva resume',
      '10s right-canva resume',
      '10s right-canva still /a.png',
    ]);
    expect(runner.slugs()).toEqual(['right-canva']);
    runner.stop('right-canva');
    expect(runner.status().state).toBe('stopped');
  });

  it('never lets a slow command land after the step that followed it', async () => {
    const { fake, runner, pass, clock } = setup(
      playlistOf([prompt('slow', seconds(10)), folder('/imgs', seconds(10)), still('/c.png', 10)]),
    );
    const release = fake.hold('prompt');
    runner.start();
    await pass(25); // the prompt hangs through step 2 and into step 3
    release();
    await settle();
    await settle();
    expect(fake.log()).toEqual(['25s left-canva prompt slow', '25s left-canva still /c.png']);
    expect(clock.now()).toBeGreaterThan(0);
  });

  it('drops a command still waiting behind a slow one once the playlist is stopped', async () => {
    const { fake, runner, pass, clock } = setup(playlistOf([prompt('slow', seconds(10)), folder('/imgs', seconds(10))]));
    const release = fake.hold('prompt');
    runner.start();
    await pass(12); // the folder command of step 2 waits behind the prompt
    runner.stop();
    release();
    await settle();
    await settle();
    expect(fake.log()).toEqual(['12s left-canva prompt slow']);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses a playlist with no steps as a programmer error', () => {
    const { fake } = setup(playlistOf([pause(1)]));
    expect(() =>
      createPlaylistRunner({
        playlist: playlistOf([]),
        slugs: ['a'],
        commands: fake.commands,
        onFrame: fake.onFrame,
        clock: new FakeClock(),
        logger: captureLogs().logger,
      }),
    ).toThrow(RangeError);
  });
});
