import { describe, expect, it } from 'vitest';
import type { Playlist } from '../playlist/playlist-types.js';
import { canvasFeedEvent, playlistFeedEvent } from './event-feed.js';

describe('the event feed', () => {
  it('tells the console of canvas states, sources and removals, not of frames or refusals', () => {
    expect(canvasFeedEvent({ type: 'state', slug: 'left', state: 'streaming' })).toEqual({
      type: 'canvas',
      slug: 'left',
      state: 'streaming',
    });
    expect(canvasFeedEvent({ type: 'source', slug: 'left', kind: 'folder' })).toEqual({ type: 'canvas', slug: 'left', source: 'folder' });
    expect(canvasFeedEvent({ type: 'removed', slug: 'left', reason: 'idle' })).toEqual({ type: 'canvas', slug: 'left', removed: 'idle' });
    expect(canvasFeedEvent({ type: 'refused', slug: 'left', job: 'j', reason: 'no' })).toBeUndefined();
  });

  it('names the playlist, the slug of an error, and the kind of a file change', () => {
    const step = { playlist: 'show', slugs: ['left'], stepIndex: 0, stepCount: 2, step: 'pause for 5s', loopCount: 0 };
    expect(playlistFeedEvent({ type: 'step-started', ...step })).toEqual({
      type: 'playlist',
      name: 'show',
      event: 'step-started',
      detail: step,
    });
    const error = { ...step, slug: 'left', error: { message: 'boom' } };
    expect(playlistFeedEvent({ type: 'error', ...error })).toEqual({
      type: 'playlist',
      name: 'show',
      event: 'error',
      slug: 'left',
      detail: error,
    });
    const change = { type: 'changed' as const, name: 'show', playlist: { name: 'show' } as Playlist };
    expect(playlistFeedEvent({ type: 'file', change })).toEqual({
      type: 'playlist',
      name: 'show',
      event: 'file-changed',
      detail: { change },
    });
  });
});
