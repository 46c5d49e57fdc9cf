import { describe, expect, it } from 'vitest';
import { createCanvasStatus, describeFrame, type CanvasEvent } from './canvas-state.js';
import { createFrame, stampFrame } from './frame.js';

const frame = () => createFrame({ id: 'img', data: Buffer.alloc(0), source: 'folder', createdAt: 0 }, new Map());

const watched = () => {
  const status = createCanvasStatus('wall');
  const events: CanvasEvent[] = [];
  status.listen((e) => events.push(e));
  const states = () => events.flatMap((e) => (e.type === 'state' ? [e.state] : []));
  return { status, events, states };
};

describe('createCanvasStatus', () => {
  it('starts, streams while slots find frames, holds when one finds none, and says each change once', () => {
    const { status, events, states } = watched();
    expect(status.state).toBe('starting');
    status.missed();
    expect(status.state).toBe('starting'); // nothing on screen yet: still starting
    status.shown(frame());
    status.shown(frame());
    status.missed();
    status.missed();
    expect(states()).toEqual(['streaming', 'holding']);
    expect(events.filter((e) => e.type === 'frame')).toHaveLength(2);
    expect(events[0]).toEqual({ type: 'state', slug: 'wall', state: 'streaming' });
  });

  it('stays paused when a frame is stepped out, and resumes to holding or starting', () => {
    const { status, states } = watched();
    expect(status.pause()).toBe(true);
    expect(status.pause()).toBe(false);
    expect(status.live).toBe(false);
    status.shown(frame());
    expect(status.state).toBe('paused');
    expect(status.resume(true)).toBe(true);
    expect(status.resume(true)).toBe(false);
    expect(status.state).toBe('holding');
    status.pause();
    status.resume(false);
    expect(states()).toEqual(['paused', 'holding', 'paused', 'starting']);
  });

  it('leaves closed for nothing and tells nobody anything after saying closed', () => {
    const { status, events, states } = watched();
    expect(status.close()).toBe(true);
    expect(status.close()).toBe(false);
    expect(status.pause()).toBe(false);
    status.shown(frame());
    status.sourceChanged('folder');
    expect(states()).toEqual(['closed']);
    expect(events).toHaveLength(1);
  });

  it('stops telling a listener that unsubscribed', () => {
    const status = createCanvasStatus('wall');
    const heard: CanvasEvent[] = [];
    const stop = status.listen((e) => heard.push(e));
    status.sourceChanged('inference');
    stop();
    status.sourceChanged('folder');
    expect(heard).toEqual([{ type: 'source', slug: 'wall', kind: 'inference' }]);
  });

  it('describes the frame on screen for the snapshot', () => {
    const f = frame();
    stampFrame(f, 7, 1_000, 300);
    expect(describeFrame(f)).toEqual({
      seq: 7,
      imageId: 'img',
      timestamp: new Date(1_300).toISOString(),
      madeAt: new Date(0).toISOString(),
      source: 'folder',
    });
    expect(describeFrame(undefined)).toBeNull();
  });
});
