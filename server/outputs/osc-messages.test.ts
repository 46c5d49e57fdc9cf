import { describe, expect, it } from 'vitest';
import type { EaselEvent } from '../control/events.js';
import { routeOscMessage } from '../control/osc-routes.js';
import { createOscMemory, eventMessages, frameMessage, type OscOutMessage } from './osc-messages.js';

const tags = (m: OscOutMessage) => m.args.map((a) => a.type[0]).join('');
const job = (state: 'queued' | 'generating' | 'done', produced: number) =>
  ({ type: 'job', job: { id: 'j1', slug: 'stage', prompt: 'a boat', count: 4, produced, state, createdAt: '' } }) as const;

const every: EaselEvent[] = [
  { type: 'canvas', slug: 'stage', state: 'paused' },
  { type: 'canvas', slug: 'stage', source: 'inference' },
  { type: 'canvas', slug: 'stage', removed: 'idle' },
  {
    type: 'command',
    slug: 'stage',
    command: 'prompt',
    origin: { via: 'osc', who: '10.0.0.9:5000' },
    detail: { prompt: 'a boat', job: 'j1' },
  },
  job('generating', 1),
  {
    type: 'playlist',
    name: 'show',
    event: 'step-started',
    detail: { playlist: 'show', slugs: ['left', 'right'], stepIndex: 2, stepCount: 5, step: 'pause for 20s', loopCount: 1 },
  },
  { type: 'playlist', name: 'show', event: 'ended', detail: { playlist: 'show', slugs: ['left'], loopCount: 1 } },
  { type: 'display', slug: 'stage', event: 'connected', display: 7, address: '10.0.0.3', displays: 2 },
  { type: 'source', slug: 'stage', health: 'down', state: 'degraded', code: 'EASEL_ERR_INFERENCE_UNAVAILABLE', reason: 'down' },
];

describe('OSC out messages', () => {
  it('types every argument: int for counts and flags, float for progress, string for ids and words', () => {
    expect(frameMessage('stage', { seq: 12, imageId: 'f-1', prompt: undefined, source: 'folder' })).toEqual({
      address: '/easel/stage/frame',
      args: [
        { type: 'integer', value: 12 },
        { type: 'string', value: 'f-1' },
        { type: 'string', value: '' },
        { type: 'string', value: 'folder' },
      ],
    });
    const [m] = eventMessages(job('generating', 1));
    expect(m!.address).toBe('/easel/stage/job');
    expect(tags(m!)).toBe('ssiifs');
    expect(m!.args[4]).toEqual({ type: 'float', value: 0.25 });
    // A finished job's progress is 1.0 as a float, never an int 1 that a CHOP would read differently.
    expect(eventMessages(job('done', 4))[0]!.args[4]).toEqual({ type: 'float', value: 1 });
    expect(eventMessages(every[5]!).map((x) => [x.address, tags(x)])).toEqual([
      ['/easel/left/playlist/step', 'siisi'],
      ['/easel/right/playlist/step', 'siisi'],
    ]);
    const trouble = eventMessages(every[8]!)[0]!;
    expect([trouble.address, tags(trouble), trouble.args[0]!.value]).toEqual(['/easel/stage/trouble', 'isss', 1]);
  });

  it('sends none of the addresses the OSC listener obeys, so nothing can loop', () => {
    const sent = [
      frameMessage('stage', { seq: 1, imageId: 'x', prompt: 'p', source: 'folder' }),
      ...every.flatMap((e) => eventMessages(e)),
    ];
    expect(sent.length).toBeGreaterThan(10);
    for (const m of sent) {
      const route = routeOscMessage(
        m.address,
        m.args.map((a) => a.value),
      );
      expect(route.ok, m.address).toBe(false);
    }
  });

  it('with memory, says paused and the source kind only when they change', () => {
    const memory = createOscMemory();
    const said = (e: EaselEvent) => eventMessages(e, memory).map((m) => `${m.address} ${m.args.map((a) => a.value).join(' ')}`);
    expect(said({ type: 'canvas', slug: 's', state: 'streaming' })).toEqual(['/easel/s/state streaming']);
    expect(said({ type: 'canvas', slug: 's', state: 'paused' })).toEqual(['/easel/s/state paused', '/easel/s/paused 1']);
    expect(said({ type: 'canvas', slug: 's', state: 'holding' })).toEqual(['/easel/s/state holding', '/easel/s/paused 0']);
    expect(said({ type: 'canvas', slug: 's', state: 'streaming' })).toEqual(['/easel/s/state streaming']);
    expect(said({ type: 'canvas', slug: 's', source: 'folder' })).toEqual(['/easel/s/source folder']);
    expect(said({ type: 'canvas', slug: 's', source: 'folder' })).toEqual([]);
  });

  it('cuts NULs and over-long prompts, so a message stays one datagram', () => {
    const [m] = eventMessages({
      type: 'command',
      slug: 's',
      command: 'prompt',
      origin: { via: 'http' },
      detail: { prompt: `a\0b${'x'.repeat(5000)}`, job: 'j' },
    });
    const prompt = m!.args[0]!.value as string;
    expect(prompt.startsWith('ab')).toBe(true);
    expect(prompt.length).toBe(2000);
  });
});
