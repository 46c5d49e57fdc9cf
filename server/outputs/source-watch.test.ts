import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import type { EaselEvent } from '../control/events.js';
import type { SourceStatus } from '../stream/source.js';
import { createSourceWatch } from './source-watch.js';

describe('the source watch', () => {
  it('tells of a source going into trouble and out of it, once each way', () => {
    const clock = new FakeClock();
    const status: Record<string, SourceStatus> = {
      a: { state: 'ok' },
      b: { state: 'failed', code: 'EASEL_ERR_FOLDER_MISSING', reason: 'gone' },
    };
    const canvases = { list: () => Object.keys(status).map((slug) => ({ slug, source: { status: () => status[slug]! } })) };
    const heard: EaselEvent[] = [];
    const watch = createSourceWatch({ canvases, emit: (e) => heard.push(e), clock });
    clock.advance(1000);
    // b is first seen in trouble and reported; a is first seen fine and is not.
    expect(heard).toEqual([
      { type: 'source', slug: 'b', health: 'down', state: 'failed', code: 'EASEL_ERR_FOLDER_MISSING', reason: 'gone' },
    ]);
    status.a = { state: 'degraded', reason: 'inference down' };
    clock.advance(3000);
    status.a = { state: 'waiting' };
    clock.advance(1000);
    expect(heard.slice(1)).toEqual([
      { type: 'source', slug: 'a', health: 'down', state: 'degraded', reason: 'inference down' },
      { type: 'source', slug: 'a', health: 'up', state: 'waiting' },
    ]);
    watch.stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('forgets a canvas that is gone, and reports it afresh if it comes back in trouble', () => {
    const clock = new FakeClock();
    let listed = true;
    const canvases = { list: () => (listed ? [{ slug: 'x', source: { status: (): SourceStatus => ({ state: 'failed' }) } }] : []) };
    const heard: EaselEvent[] = [];
    createSourceWatch({ canvases, emit: (e) => heard.push(e), clock });
    clock.advance(1000);
    listed = false;
    clock.advance(1000);
    listed = true;
    clock.advance(1000);
    expect(heard.map((e) => e.type === 'source' && e.health)).toEqual(['down', 'down']);
  });
});
