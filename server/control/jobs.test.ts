import { describe, expect, it } from 'vitest';
import { createFrame } from '../canvas/frame.js';
import type { RegistryEvent } from '../canvas/registry.js';
import { createEventBus, type EaselEvent } from './events.js';
import { createJobTracker } from './jobs.js';
import { FakeClock } from '../../test/support/fake-clock.js';

/** Jobs hear the canvases' events by job id: frames of other prompts, or of none, never count. */
function setUp() {
  const listeners = new Set<(event: RegistryEvent) => void>();
  const canvases = {
    onEvent(listener: (event: RegistryEvent) => void) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const emit = (event: RegistryEvent) => listeners.forEach((l) => l(event));
  const events = createEventBus();
  const heard: EaselEvent[] = [];
  events.subscribe((e) => heard.push(e));
  const clock = new FakeClock(Date.UTC(2030, 0, 1));
  const jobs = createJobTracker({ events, canvases, clock });
  const shown = (slug: string, job: string | undefined, prompt = 'a red boat') =>
    emit({
      type: 'frame',
      slug,
      frame: createFrame(
        { id: `${Math.random()}`, data: Buffer.alloc(0), source: 'inference', createdAt: 0, prompt, ...(job && { job }) },
        new Map(),
      ),
    });
  return { jobs, emit, shown, heard, clock };
}

describe('createJobTracker', () => {
  it('fails a job abandoned by a node that lost its canvas: its own, or one another node recorded', () => {
    const { jobs, heard, clock } = setUp();
    const own = jobs.create('left', 'a red boat', 4, async () => undefined);
    clock.advance(1000);
    expect(jobs.abandon(own, 'moved')).toMatchObject({ id: own.id, state: 'failed', reason: 'moved', endedAt: '2030-01-01T00:00:01.000Z' });
    expect(jobs.current('left')).toBeUndefined();
    // Ended already: it stays as it ended.
    expect(jobs.abandon({ ...own, state: 'generating' }, 'again')).toMatchObject({ state: 'failed', reason: 'moved' });
    const foreign = { ...own, id: 'from-node-a', slug: 'right', produced: 2, state: 'generating' as const };
    expect(jobs.abandon(foreign, 'node-a stopped')).toMatchObject({ id: 'from-node-a', state: 'failed', produced: 2 });
    expect(jobs.get('from-node-a')).toMatchObject({ slug: 'right', state: 'failed', reason: 'node-a stopped' });
    const failed = heard.filter((e) => e.type === 'job' && e.job.state === 'failed');
    expect(failed.map((e) => e.type === 'job' && e.job.id)).toEqual([own.id, 'from-node-a']);
  });

  it('counts the frames that carry its id, generating then done', () => {
    const { jobs, shown, clock } = setUp();
    const job = jobs.create('left', 'a red boat', 2, async () => undefined);
    expect(job.createdAt).toBe('2030-01-01T00:00:00.000Z');
    clock.advance(1500);
    shown('left', undefined); // the prompt before it, same text
    shown('left', 'another-job');
    expect(jobs.get(job.id)).toMatchObject({ state: 'queued', produced: 0 });
    shown('left', job.id);
    expect(jobs.get(job.id)).toMatchObject({ state: 'generating', produced: 1 });
    shown('left', job.id);
    expect(jobs.get(job.id)).toMatchObject({ state: 'done', produced: 2 });
    expect(jobs.get(job.id).endedAt).toBe('2030-01-01T00:00:01.500Z');
    shown('left', job.id);
    expect(jobs.get(job.id).produced).toBe(2);
  });

  it('fails the job a refusal names, with the reason, and no other', () => {
    const { jobs, emit, heard } = setUp();
    const left = jobs.create('left', 'odd size', 4, async () => undefined);
    const right = jobs.create('right', 'odd size', 4, async () => undefined);
    emit({ type: 'refused', slug: 'left', job: undefined, reason: 'from config' });
    emit({ type: 'refused', slug: 'left', job: left.id, reason: 'width 100 is not a multiple of 64' });
    expect(jobs.get(left.id)).toMatchObject({ state: 'failed', reason: 'width 100 is not a multiple of 64' });
    expect(jobs.get(right.id).state).toBe('queued');
    expect(heard.filter((e) => e.type === 'job' && e.job.state === 'failed')).toHaveLength(1);
  });

  it('leaves a replaced job cancelled when its late frames and refusal arrive', () => {
    const { jobs, emit, shown } = setUp();
    const first = jobs.create('left', 'one', 4, async () => undefined);
    jobs.create('left', 'two', 4, async () => undefined);
    shown('left', first.id, 'one');
    emit({ type: 'refused', slug: 'left', job: first.id, reason: 'late' });
    expect(jobs.get(first.id)).toMatchObject({ state: 'cancelled', produced: 0, reason: 'Replaced by a newer prompt' });
  });
});
