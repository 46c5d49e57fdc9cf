import type { CanvasCommands, CommandOrigin, JobSnapshot, PromptCommand, SourceCommand } from '../../server/control/command-types.js';
import type { Clock } from '../../server/stream/clock.js';

export interface RecordedCall {
  /** Seconds since the fake was made, on its clock. */
  at: number;
  slug: string;
  /** 'prompt', 'folder', 'still', 'pause', 'resume'. */
  kind: string;
  /** The prompt text or the path. */
  arg?: string;
  command?: PromptCommand | SourceCommand;
  origin: CommandOrigin;
}

/**
 * The playlist-facing part of CanvasCommands, recording every call with its time on a fake
 * clock. `fail(kind, err)` makes that kind of command throw; `hold(kind)` makes the next such
 * command wait until the returned function is called. Also a frame hub for `onFrame`.
 */
export function createFakeCanvasCommands(clock: Clock) {
  const t0 = clock.now();
  const calls: RecordedCall[] = [];
  const failures = new Map<string, unknown>();
  const holds = new Map<string, Promise<void>>();
  const frameListeners = new Map<string, Set<() => void>>();

  const record = async (slug: string, kind: string, origin: CommandOrigin, arg?: string, command?: PromptCommand | SourceCommand) => {
    const held = holds.get(kind);
    if (held) {
      holds.delete(kind);
      await held;
    }
    calls.push({ at: (clock.now() - t0) / 1000, slug, kind, ...(arg !== undefined && { arg }), ...(command && { command }), origin });
    if (failures.has(kind)) throw failures.get(kind);
  };

  const commands: Pick<CanvasCommands, 'setPrompt' | 'setSource' | 'pause' | 'resume'> = {
    async setPrompt(slug, command, origin): Promise<JobSnapshot> {
      await record(slug, 'prompt', origin, command.prompt, command);
      return {
        id: `job-${calls.length}`,
        slug,
        prompt: command.prompt,
        count: command.count ?? 0,
        produced: 0,
        state: 'queued',
        createdAt: new Date(clock.now()).toISOString(),
      };
    },
    async setSource(slug, source, origin) {
      await record(slug, source.type, origin, 'path' in source ? source.path : undefined, source);
    },
    pause(slug, origin) {
      calls.push({ at: (clock.now() - t0) / 1000, slug, kind: 'pause', origin });
      if (failures.has('pause')) throw failures.get('pause');
    },
    resume(slug, origin) {
      calls.push({ at: (clock.now() - t0) / 1000, slug, kind: 'resume', origin });
    },
  };

  return {
    commands,
    calls,
    /** `0s left-canva prompt "x"`-style lines, easy to compare. */
    log: () => calls.map((c) => `${c.at}s ${c.slug} ${c.kind}${c.arg !== undefined ? ` ${c.arg}` : ''}`),
    fail(kind: string, err: unknown) {
      failures.set(kind, err);
    },
    heal(kind: string) {
      failures.delete(kind);
    },
    hold(kind: string): () => void {
      let release!: () => void;
      holds.set(kind, new Promise<void>((resolve) => (release = resolve)));
      return release;
    },
    onFrame(slug: string, listener: () => void): () => void {
      const set = frameListeners.get(slug) ?? new Set();
      frameListeners.set(slug, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    /** Shows `n` frames on a canvas. */
    frames(slug: string, n = 1) {
      for (let i = 0; i < n; i++) for (const listener of [...(frameListeners.get(slug) ?? [])]) listener();
    },
    listening(slug: string): number {
      return frameListeners.get(slug)?.size ?? 0;
    },
  };
}

/** Lets promise callbacks (the runner's command chain) run; no time passes. */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
