import { describe, expect, it } from 'vitest';
import { MAX_STATE_BYTES, MAX_VIEW_BYTES, parseSharedCanvasState, parseSharedView } from './shared-canvas-state.js';

const good = {
  version: 1,
  node: 'node-a',
  epoch: 1_796_000_000_000,
  savedAt: 1_796_000_000_123.25,
  canvas: {
    source: { type: 'folder', path: '/srv/art/reds', order: 'name' },
    paused: true,
    hold: { imageId: 'u-abc', file: 'wall-u-abc', until: null },
  },
  playlist: { name: 'reds', stepIndex: 2, loopCount: 1 },
  job: { id: 'j-1', slug: 'wall', prompt: 'a harbour', count: 8, produced: 3, state: 'generating', createdAt: '2026-12-01T16:00:00.000Z' },
  seq: 812,
  presentAt: 1_796_000_000_450.5,
};

const text = (v: unknown) => JSON.stringify(v);
const without = (key: string) => Object.fromEntries(Object.entries(good).filter(([k]) => k !== key));

describe('shared canvas state from Redis', () => {
  it('reads back what an owner writes', () => {
    expect(parseSharedCanvasState(text(good), 'wall')).toEqual(good);
    const bare = { ...without('playlist'), job: undefined, canvas: {}, presentAt: null };
    expect(parseSharedCanvasState(text(bare), 'wall')).toEqual({ ...without('playlist'), job: undefined, canvas: {}, presentAt: null });
  });

  it.each([
    ['not JSON', '{"version":1,', /not JSON/],
    ['not an object', '[1,2]', /state: is not an object/],
    ['another version', text({ ...good, version: 2 }), /version/],
    ['no node', text(without('node')), /node/],
    ['a negative epoch', text({ ...good, epoch: -1 }), /epoch/],
    ['a seq that is text', text({ ...good, seq: '812' }), /seq/],
    ['an unknown source type', text({ ...good, canvas: { source: { type: 'rm -rf' } } }), /canvas\.source\.type/],
    ['a hold naming a path', text({ ...good, canvas: { hold: { imageId: 'x', file: '../../etc/passwd', until: null } } }), /hold\.file/],
    ['a playlist with no step', text({ ...good, playlist: { name: 'reds' } }), /playlist/],
    ['a job of another canvas', text({ ...good, job: { ...good.job, slug: 'lobby' } }), /job\.slug/],
    ['a job in no known state', text({ ...good, job: { ...good.job, state: 'exploded' } }), /job\.state/],
    ['a presentAt of Infinity', text({ ...good, presentAt: '1e999' }), /presentAt/],
  ])('refuses %s, naming what is wrong', (_what, value, reason) => {
    expect(() => parseSharedCanvasState(value, 'wall')).toThrow(reason);
  });

  it('refuses an oversized value before parsing it', () => {
    const huge = text({ ...good, canvas: { source: { ...good.canvas.source, path: 'x'.repeat(MAX_STATE_BYTES) } } });
    expect(() => parseSharedCanvasState(huge, 'wall')).toThrow(/over 65536/);
  });
});

describe("an owner's view from Redis", () => {
  const view = { slug: 'wall', state: 'paused', producedBy: 'node-a', sharedAt: '2026-12-01T16:00:00.000Z', fps: 4 };

  it('is read back as published', () => {
    expect(parseSharedView(text(view), 'wall')).toEqual(view);
  });

  it.each([
    ['not JSON', 'nope', /not JSON/],
    ['another canvas', text({ ...view, slug: 'lobby' }), /view\.slug/],
    ['no owner', text({ ...view, producedBy: 7 }), /producedBy/],
    ['no state', text({ ...view, state: undefined }), /view\.state/],
    ['an oversized value', text({ ...view, note: 'x'.repeat(MAX_VIEW_BYTES) }), /over/],
  ])('refuses %s', (_what, value, reason) => {
    expect(() => parseSharedView(value, 'wall')).toThrow(reason);
  });
});
