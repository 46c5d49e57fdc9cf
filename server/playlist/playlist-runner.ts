/**
 * Runs one playlist on one or more canvases through the canvas commands: each step's command,
 * then a wait for the step's time or its number of new frames, step after step, looping when
 * the playlist says so. Canvases of one runner move in lockstep: a frames step ends when every
 * canvas has shown its frames. A command that fails is logged (once per step and canvas) and
 * the step is still held for its time, so a show whose commands all fail neither stops
 * silently nor spins.
 */
import type { CanvasCommands, CommandOrigin } from '../control/command-types.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { createFrameHold, type FrameHold, type OnFrame } from './frame-hold.js';
import { seedForPass, summarizeStep, type Playlist, type PlaylistStep } from './playlist-types.js';

export type { OnFrame };

export interface PlaylistRunnerOptions {
  playlist: Playlist;
  slugs: string[];
  commands: Pick<CanvasCommands, 'setPrompt' | 'setSource' | 'pause' | 'resume'>;
  onFrame: OnFrame;
  clock: Clock;
  logger: Logger;
  /** Frame rate assumed when a frames step cannot run (its command failed): it waits frames / fps. Default 4. */
  nominalFps?: number;
  /** A frames step whose canvases show nothing new for this long moves on anyway. Default 30 s. */
  frameStallMs?: number;
  /** Where to begin instead of the first step (a show picked up after a restart); a step past the end begins at the first. */
  from?: { stepIndex: number; loopCount: number };
}

export interface PlaylistRunnerStatus {
  playlist: string;
  slugs: string[];
  state: 'running' | 'ended' | 'stopped';
  stepIndex: number;
  stepCount: number;
  /** `prompt "a harbour at night" for 45s` */
  step: string;
  stepLine: number;
  stepStartedAt: string;
  /** A timed step: when it ends. */
  stepEndsAt?: string;
  /** A frames step: new frames counted so far on the slowest canvas. */
  frames?: { shown: number; of: number };
  startedAt: string;
  /** Completed passes through the steps. */
  loopCount: number;
}

interface StepInfo {
  playlist: string;
  slugs: string[];
  stepIndex: number;
  stepCount: number;
  step: string;
  loopCount: number;
}

export type PlaylistRunnerEvent =
  | ({ type: 'step-started' } & StepInfo)
  | ({ type: 'step-finished'; reason: 'time' | 'frames' | 'stalled' } & StepInfo)
  | ({ type: 'error'; slug: string; error: { code?: string; message: string; hint?: string } } & StepInfo)
  | { type: 'reloaded'; playlist: string; slugs: string[] }
  | { type: 'ended'; playlist: string; slugs: string[]; loopCount: number }
  | { type: 'stopped'; playlist: string; slugs: string[] };

export type PlaylistRunner = ReturnType<typeof createPlaylistRunner>;

/**
 * @example
 * const runner = createPlaylistRunner({ playlist, slugs: ['left-canva'], commands, onFrame, clock, logger });
 * runner.onEvent((e) => log.debug(e, 'Playlist progress'));
 * runner.start();
 * await runner.done; // ended (loop: false) or stopped
 */
export function createPlaylistRunner(options: PlaylistRunnerOptions) {
  const { commands, clock, onFrame } = options;
  if (options.playlist.steps.length === 0)
    throw new RangeError(`Expected at least one step for playlist "${options.playlist.name}" but received none`);
  const nominalFps = options.nominalFps ?? 4;
  const frameStallMs = options.frameStallMs ?? 30_000;
  let playlist = options.playlist;
  let pending: Playlist | undefined;
  const log = options.logger.child({ playlist: playlist.name });
  const origin: CommandOrigin = { via: 'playlist', who: playlist.name };
  const active = new Set(options.slugs);
  const listeners = new Set<(event: PlaylistRunnerEvent) => void>();
  const chains = new Map<string, Promise<unknown>>();
  const logged = new Set<string>();
  let state: PlaylistRunnerStatus['state'] = 'running';
  const from = options.from;
  const resumable = from !== undefined && Number.isInteger(from.stepIndex) && from.stepIndex >= 0 && from.stepIndex < playlist.steps.length;
  let index = resumable ? from.stepIndex : 0;
  let loopCount = from && Number.isInteger(from.loopCount) && from.loopCount >= 0 ? from.loopCount : 0;
  /** Aborted when its step is over (finished, or the playlist ended or stopped): late work of that step is dropped. */
  let stepRun = new AbortController();
  let started = false;
  const startedAt = clock.now();
  let stepStartedAt = startedAt;
  let stepEndsAt: number | undefined;
  let timer: unknown = null;
  /** The current step's, when it is held for frames. */
  let frameHold: FrameHold | undefined;
  /** Canvases the current pause step paused: they are resumed when it ends or stops. */
  const paused = new Set<string>();
  let resolveDone!: () => void;
  const done = new Promise<void>((resolve) => (resolveDone = resolve));

  const emit = (event: PlaylistRunnerEvent) => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        log.error({ err }, 'A playlist event listener failed');
      }
    }
  };
  const step = (): PlaylistStep => playlist.steps[index]!;
  const info = (): StepInfo => ({
    playlist: playlist.name,
    slugs: [...active],
    stepIndex: index,
    stepCount: playlist.steps.length,
    step: summarizeStep(step()),
    loopCount,
  });
  const isCurrent = (step: AbortSignal, slug?: string) => !step.aborted && state === 'running' && (slug === undefined || active.has(slug));

  function failed(slug: string, err: unknown): void {
    const e = err as { code?: string; message?: string; hint?: string };
    const error = { ...(e?.code && { code: e.code }), message: e?.message ?? String(err), ...(e?.hint && { hint: e.hint }) };
    const key = `${index}|${slug}|${error.code ?? ''}|${error.message}`;
    const fields = { slug, step: index + 1, line: step().line, code: error.code, hint: error.hint };
    const message = `Playlist "${playlist.name}" step ${index + 1} failed on "${slug}": ${error.message}; the show goes on`;
    if (logged.has(key)) log.debug(fields, message);
    else {
      logged.add(key);
      log.warn(fields, message);
    }
    emit({ type: 'error', ...info(), slug, error });
  }

  /**
   * Runs one canvas's command after the ones before it (so a slow command never lands after
   * its successor) unless its step is over by then. Resolves true when it succeeded.
   */
  function command(slug: string, t: AbortSignal, fn: () => unknown): Promise<boolean> {
    const run = (chains.get(slug) ?? Promise.resolve()).then(async () => {
      if (!isCurrent(t, slug)) return false;
      await fn();
      return true;
    });
    chains.set(
      slug,
      run.catch(() => undefined),
    );
    return run.catch((err: unknown) => {
      if (isCurrent(t, slug)) failed(slug, err);
      return false;
    });
  }

  function issue(s: PlaylistStep, slug: string, t: AbortSignal): Promise<boolean> {
    switch (s.type) {
      case 'prompt': {
        const seed = seedForPass(s, { playlist: playlist.name, stepIndex: index, pass: loopCount, slug });
        const prompt = {
          prompt: s.prompt,
          negativePrompt: s.negativePrompt,
          seed,
          steps: s.steps,
          drift: s.drift,
          count: s.hold.kind === 'frames' ? s.hold.count : undefined,
        };
        for (const key of Object.keys(prompt) as Array<keyof typeof prompt>) if (prompt[key] === undefined) delete prompt[key];
        const from = { ...origin, step: index + 1 };
        return command(slug, t, () => commands.setPrompt(slug, prompt as Parameters<typeof commands.setPrompt>[1], from));
      }
      case 'folder':
        return command(slug, t, () =>
          commands.setSource(slug, { type: 'folder', path: s.path, ...(s.order && { order: s.order }) }, origin),
        );
      case 'still':
        return command(slug, t, () => commands.setSource(slug, { type: 'still', path: s.path }, origin));
      case 'pause':
        return command(slug, t, async () => {
          await commands.pause(slug, origin);
          paused.add(slug);
        });
    }
  }

  function beginStep(): void {
    stepRun.abort();
    stepRun = new AbortController();
    const t = stepRun.signal;
    const s = step();
    stepStartedAt = clock.now();
    stepEndsAt = undefined;
    log.info(
      { slugs: [...active], step: index + 1, of: playlist.steps.length, line: s.line, loop: loopCount },
      `Playlist "${playlist.name}" step ${index + 1}/${playlist.steps.length}: ${summarizeStep(s)}`,
    );
    emit({ type: 'step-started', ...info() });
    const results = [...active].map((slug) => issue(s, slug, t).then((ok) => ({ slug, ok })));
    if (s.hold.kind === 'time') {
      // Never shorter than a frame, whatever a hand-made Playlist says: a loop must not spin.
      const ms = Math.max(250, s.hold.ms);
      stepEndsAt = stepStartedAt + ms;
      timer = clock.setTimeout(() => finish(t, 'time'), ms);
      return;
    }
    const count = s.hold.count;
    const hold = createFrameHold({
      slugs: [...active],
      count,
      onFrame,
      clock,
      stallMs: frameStallMs,
      onDone: (reason) => {
        if (reason === 'stalled') {
          log.warn(
            { step: index + 1, counts: hold.counts(), stallMs: frameStallMs },
            `Playlist "${playlist.name}" step ${index + 1}: no new frame for ${frameStallMs} ms; moving on`,
          );
        }
        finish(t, reason);
      },
    });
    frameHold = hold;
    const settled = results.map((r) =>
      r.then(({ slug, ok }) => {
        if (isCurrent(t, slug)) (ok ? hold.watch : hold.drop)(slug);
        return ok;
      }),
    );
    void Promise.all(settled).then((oks) => {
      if (!isCurrent(t) || oks.some(Boolean)) return;
      // Every command failed: hold the step for about as long as its frames would take.
      hold.cancel();
      const ms = Math.max(250, Math.round((count * 1000) / nominalFps));
      stepEndsAt = stepStartedAt + ms;
      timer = clock.setTimeout(() => finish(t, 'time'), Math.max(0, stepEndsAt - clock.now()));
    });
  }

  function clearTimers(): void {
    if (timer !== null) clock.clearTimeout(timer);
    timer = null;
    frameHold?.cancel();
    frameHold = undefined;
  }

  /** Resumes the canvases the current pause step paused. */
  function resume(slugs: Iterable<string>): void {
    for (const slug of slugs) {
      if (!paused.delete(slug)) continue;
      try {
        // In cluster mode another node may carry it out: a late failure is reported like one at once.
        const resumed = commands.resume(slug, origin);
        if (resumed instanceof Promise) resumed.catch((err: unknown) => failed(slug, err));
      } catch (err) {
        failed(slug, err);
      }
    }
  }

  function finish(t: AbortSignal, reason: 'time' | 'frames' | 'stalled'): void {
    if (!isCurrent(t)) return;
    clearTimers();
    resume([...paused]);
    emit({ type: 'step-finished', reason, ...info() });
    let next = index + 1;
    if (pending) {
      playlist = pending;
      pending = undefined;
      logged.clear();
      log.info({ steps: playlist.steps.length }, `Playlist "${playlist.name}" now runs its new version`);
      emit({ type: 'reloaded', playlist: playlist.name, slugs: [...active] });
      next = Math.min(next, playlist.steps.length);
    }
    if (next < playlist.steps.length) index = next;
    else if (playlist.loop) {
      index = 0;
      loopCount += 1;
    } else {
      end('ended', [...active]);
      return;
    }
    beginStep();
  }

  /** `slugs`: the canvases the playlist drove to the end. */
  function end(final: 'ended' | 'stopped', slugs: string[]): void {
    if (state !== 'running') return;
    stepRun.abort();
    clearTimers();
    resume([...paused]);
    state = final;
    log.info({ slugs, loops: loopCount }, `Playlist "${playlist.name}" ${final}`);
    emit(
      final === 'ended'
        ? { type: 'ended', playlist: playlist.name, slugs, loopCount }
        : { type: 'stopped', playlist: playlist.name, slugs },
    );
    resolveDone();
  }

  return {
    get name(): string {
      return playlist.name;
    },
    /** Resolves once the playlist ended (loop: false) or was stopped. */
    done,

    slugs(): string[] {
      return [...active];
    },

    /** Starts the first step now; later calls do nothing. */
    start(): void {
      if (started || state !== 'running') return;
      started = true;
      beginStep();
    },

    /**
     * Stops driving one canvas (the others go on), or all of them. A canvas the current pause
     * step paused is resumed; the canvas keeps the source the last step gave it.
     */
    stop(slug?: string): void {
      if (state !== 'running') return;
      if (slug === undefined) return end('stopped', [...active]);
      if (!active.has(slug)) return;
      active.delete(slug);
      resume([slug]);
      if (active.size === 0) return end('stopped', [slug]);
      log.info({ slug }, `Playlist "${playlist.name}" no longer drives "${slug}"`);
      frameHold?.drop(slug);
    },

    /** A new version of the playlist: it takes over at the next step boundary, at the same position. */
    replace(next: Playlist): void {
      if (next.steps.length === 0) throw new RangeError(`Expected at least one step for playlist "${next.name}" but received none`);
      if (state === 'running') pending = next;
    },

    status(): PlaylistRunnerStatus {
      const s = step();
      const iso = (ms: number) => new Date(ms).toISOString();
      const frames = s.hold.kind === 'frames' && state === 'running' ? { shown: frameHold?.shown() ?? 0, of: s.hold.count } : undefined;
      return {
        playlist: playlist.name,
        slugs: [...active],
        state,
        stepIndex: index,
        stepCount: playlist.steps.length,
        step: summarizeStep(s),
        stepLine: s.line,
        stepStartedAt: iso(stepStartedAt),
        ...(stepEndsAt !== undefined && state === 'running' && { stepEndsAt: iso(stepEndsAt) }),
        ...(frames && { frames }),
        startedAt: iso(startedAt),
        loopCount,
      };
    },

    onEvent(listener: (event: PlaylistRunnerEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
