import { describe, expect, it } from 'vitest';
import { createWaitingQueue } from './waiting-queue.js';

const never = () => new AbortController().signal;

describe('createWaitingQueue', () => {
  it('hands out items first in, first out', async () => {
    const queue = createWaitingQueue<number>();
    queue.push(1);
    queue.push(2);
    expect(queue.length).toBe(2);
    expect([await queue.take(never()), await queue.take(never())]).toEqual([1, 2]);
  });

  it('makes a taker wait for the next push, which skips the queue', async () => {
    const queue = createWaitingQueue<string>();
    const waiting = queue.take(never());
    queue.push('fresh');
    expect(await waiting).toBe('fresh');
    expect(queue.length).toBe(0);
  });

  it('rejects a waiting taker with the signal reason, and later pushes are queued', async () => {
    const queue = createWaitingQueue<string>();
    const controller = new AbortController();
    const waiting = queue.take(controller.signal);
    controller.abort(new Error('paused'));
    await expect(waiting).rejects.toThrow('paused');
    queue.push('kept');
    expect(queue.length).toBe(1);
  });

  it('fail() rejects the taker and drops what was queued; clear() only drops', async () => {
    const queue = createWaitingQueue<number>();
    queue.push(1);
    queue.clear();
    expect(queue.length).toBe(0);
    const waiting = queue.take(never());
    queue.fail(new Error('closed'));
    await expect(waiting).rejects.toThrow('closed');
  });
});
