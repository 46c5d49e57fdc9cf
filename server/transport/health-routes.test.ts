import { describe, expect, it } from 'vitest';
import type { CanvasSnapshot } from '../canvas/canvas.js';
import type { InferenceClientStatus } from '../inference/client.js';
import { readiness } from './health-routes.js';

const frame = { seq: 3, imageId: 'i3', timestamp: '2026-01-01T00:00:00.000Z', madeAt: '2026-01-01T00:00:00.000Z', source: 'folder' };
const canvas = (source: CanvasSnapshot['source'], lastFrame: CanvasSnapshot['lastFrame'] = frame) =>
  ({ slug: 'gen', source, lastFrame }) as CanvasSnapshot;
const up: InferenceClientStatus = { state: 'up', endpoints: [] };

describe('readiness', () => {
  it('is ready only when every canvas shows what it was set up for', () => {
    expect(readiness([canvas({ kind: 'inference', state: 'ok' })], up, false)).toEqual({ status: 'ready', ready: true, problems: [] });
    // A new prompt on its way: the screen still has frames.
    expect(readiness([canvas({ kind: 'inference', state: 'waiting' })], up, false).ready).toBe(true);
  });

  it('calls a canvas on its fallback degraded, with the reason, the hint and what is on screen', () => {
    const source = {
      kind: 'inference',
      state: 'degraded' as const,
      code: 'EASEL_ERR_INFERENCE_STALLED' as const,
      reason: 'Inference service at "gpu:7000" sent no image for 3 s',
      hint: 'Look in its log',
      details: { fallback: { active: true } },
    };
    expect(readiness([canvas(source)], up, false)).toEqual({
      status: 'degraded',
      ready: false,
      problems: [{ slug: 'gen', code: 'EASEL_ERR_INFERENCE_STALLED', reason: source.reason, hint: 'Look in its log', showing: 'fallback' }],
    });
  });

  it('is unready when a canvas has nothing to show, and shutting down above all', () => {
    expect(readiness([canvas({ kind: 'inference', state: 'waiting' }, null)], up, false).status).toBe('unready');
    expect(readiness([canvas({ kind: 'inference', state: 'ok' })], up, true)).toMatchObject({ status: 'shutting-down', ready: false });
  });

  it('reports an inference service that is down even when no canvas generates', () => {
    const down: InferenceClientStatus = {
      state: 'down',
      reason: 'No inference endpoint serves: "gpu:7000" cannot connect',
      hint: 'Start the inference service at "gpu:7000"',
      endpoints: [],
    };
    expect(readiness([canvas({ kind: 'folder', state: 'ok' })], down, false)).toEqual({
      status: 'degraded',
      ready: false,
      problems: [{ code: 'EASEL_ERR_INFERENCE_UNAVAILABLE', reason: down.reason, hint: down.hint }],
    });
  });

  it('calls a node cut off from Redis degraded, not unready: its displays keep their last frame', () => {
    const ok = [canvas({ kind: 'folder', state: 'ok' })];
    expect(readiness(ok, undefined, false, { state: 'up' }).status).toBe('ready');
    expect(readiness(ok, undefined, false, { state: 'connecting' }).status).toBe('ready');
    const cut = readiness(ok, undefined, false, { state: 'down', reason: 'connect ECONNREFUSED 10.0.0.2:6379' });
    expect(cut.status).toBe('degraded');
    expect(cut.problems).toEqual([
      {
        code: 'EASEL_ERR_REDIS_UNAVAILABLE',
        reason:
          'Redis is unreachable (connect ECONNREFUSED 10.0.0.2:6379): nothing crosses nodes; this node keeps producing the canvases it owned for its own displays only, and displays of the other canvases keep their last frame',
        hint: expect.stringMatching(/Start Redis or fix cluster\.redisUrl/),
      },
    ]);
  });

  it('degrades a node whose cluster time cannot be vouched for, and only warns of a clock far off but corrected', () => {
    const ok = [canvas({ kind: 'folder', state: 'ok' })];
    const up = { state: 'up' } as const;
    const inStep = readiness(ok, undefined, false, up, { offsetMs: 0.3, errorMs: 0.2, correctionMs: 0.3, state: 'ok' });
    expect(inStep).toEqual({ status: 'ready', ready: true, problems: [] });
    const far = readiness(ok, undefined, false, up, { offsetMs: -2003.4, errorMs: 0.4, correctionMs: -2003.4, state: 'far' });
    expect(far).toMatchObject({ status: 'ready', problems: [] });
    expect(far.warnings).toEqual([
      {
        reason: "This node's clock is 2003 ms ahead of Redis's; Easel corrects for it, so screens stay in step",
        hint: 'Run NTP (chrony) on every node and on the Redis host',
      },
    ]);
    const unsure = readiness(ok, undefined, false, up, { offsetMs: 4, errorMs: 80, correctionMs: 4, state: 'unsynced' });
    expect(unsure.status).toBe('degraded');
    expect(unsure.problems).toEqual([
      expect.objectContaining({ code: 'EASEL_ERR_CLOCK_UNSYNCED', reason: expect.stringContaining('to within 80 ms (bound 50 ms)') }),
    ]);
    const never = readiness(ok, undefined, false, up, { offsetMs: null, errorMs: null, correctionMs: 0, state: 'unsynced' });
    expect(never.problems[0]!.reason).toMatch(/has not measured its clock against Redis's yet/);
    // Redis down is said once, by its own problem; the correction holds meanwhile.
    const cut = readiness(ok, undefined, false, { state: 'down' }, { offsetMs: null, errorMs: null, correctionMs: 0, state: 'unsynced' });
    expect(cut.problems.map((p) => p.code)).toEqual(['EASEL_ERR_REDIS_UNAVAILABLE']);
  });
});
