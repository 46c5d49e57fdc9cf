import { describe, expect, it } from 'vitest';
import { createFrame, type Frame } from './frame.js';
import { createRenderAhead } from './render-ahead.js';

const frame = (id: string): Frame => createFrame({ id, data: Buffer.alloc(0), source: 'test', createdAt: 0 }, new Map());

/** Lets awaited continuations run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('createRenderAhead', () => {
  it('hands frames out in order, a still ahead of them all', () => {
    const queue = createRenderAhead(3);
    queue.push(frame('a'), queue.batch);
    queue.push(frame('b'), queue.batch);
    queue.pushFront(frame('still'));
    expect([queue.take()?.imageId, queue.take()?.imageId, queue.take()?.imageId, queue.take()]).toEqual(['still', 'a', 'b', undefined]);
  });

  it('makes the producer wait while full, and lets it on once a slot takes a frame', async () => {
    const queue = createRenderAhead(2);
    const run = new AbortController();
    queue.push(frame('a'), queue.batch);
    queue.push(frame('b'), queue.batch);
    let roomy = false;
    void queue.room(run.signal).then(() => (roomy = true));
    await settle();
    expect(roomy).toBe(false);
    queue.take();
    await settle();
    expect(roomy).toBe(true);
  });

  it('lets a waiting producer go at once when its run is aborted', async () => {
    const queue = createRenderAhead(1);
    const run = new AbortController();
    queue.push(frame('a'), queue.batch);
    const waited = queue.room(run.signal);
    run.abort(new Error('closed'));
    await expect(waited).resolves.toBeUndefined();
    expect(queue.length).toBe(1);
  });

  it('refuses a frame rendered for a batch that was dropped meanwhile, and takes the next batch', () => {
    const queue = createRenderAhead(3);
    queue.push(frame('old-1'), queue.batch);
    const renderingFor = queue.batch;
    queue.drop(new Error('new prompt'));
    expect(renderingFor.aborted).toBe(true);
    expect(queue.length).toBe(0);
    expect(queue.push(frame('old-2'), renderingFor)).toBe(false);
    expect(queue.push(frame('new-1'), queue.batch)).toBe(true);
    expect(queue.take()?.imageId).toBe('new-1');
  });

  it('wakes a producer waiting on a full queue when the queue is dropped', async () => {
    const queue = createRenderAhead(1);
    queue.push(frame('a'), queue.batch);
    let roomy = false;
    void queue.room(new AbortController().signal).then(() => (roomy = true));
    queue.drop(new Error('new source'));
    await settle();
    expect(roomy).toBe(true);
  });
});
