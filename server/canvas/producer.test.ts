import { describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { solidPng } from '../../test/support/images.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createScriptedSource, imageOf } from '../../test/support/scripted-source.js';
import { quickRenderer } from '../../test/support/test-renderer.js';
import type { RenditionSpec } from '../stream/rendition.js';
import { createProducer, sourceBackoffMs } from './producer.js';
import { createRenderAhead } from './render-ahead.js';

/**
 * The producer on a fake clock with a source the test answers by hand; renders are real
 * (sharp), so each step waits for the state it expects rather than for a time.
 */
const spec: RenditionSpec = { format: 'jpeg', width: 32, height: 32, fit: 'inside' };
const settle = () => new Promise((resolve) => setImmediate(resolve));

async function setUp(capacity = 2) {
  const clock = new FakeClock();
  const logs = captureLogs();
  const queue = createRenderAhead(capacity);
  const scripted = createScriptedSource();
  let rejected = 0;
  let beforeRender = () => {};
  const producer = createProducer({
    renderer: quickRenderer(),
    queue,
    specs: () => {
      beforeRender();
      return [spec];
    },
    clock,
    logger: logs.logger,
    onRejected: () => rejected++,
  });
  void producer.switchTo(scripted.source, new Error('replaced'));
  const png = await solidPng('#336699', 16, 16);
  const asked = () => vi.waitFor(() => expect(scripted.asked).toBe(true));
  return {
    clock,
    logs,
    queue,
    scripted,
    producer,
    png,
    asked,
    rejected: () => rejected,
    setBeforeRender: (fn: () => void) => (beforeRender = fn),
  };
}

describe('createProducer', () => {
  it('renders ahead up to the queue capacity, then asks the source for nothing until a frame is taken', async () => {
    const { queue, scripted, producer, png, asked } = await setUp(2);
    await asked();
    scripted.give(imageOf(png));
    await asked();
    scripted.give(imageOf(png));
    await vi.waitFor(() => expect(queue.length).toBe(2));
    await settle();
    expect(scripted.calls).toHaveLength(2);
    expect(scripted.asked).toBe(false);
    expect(queue.take()?.renditions.has('jpeg:32x32:inside')).toBe(true);
    await asked();
    expect(scripted.calls).toHaveLength(3);
    await producer.stop(new Error('done'));
  });

  it('backs off after a source throws, doubling each time, and starts over once it gives an image', async () => {
    const { clock, scripted, producer, png, asked, logs } = await setUp();
    const callsAfter = async (ms: number) => {
      await settle(); // the failure reaches the producer, which sets its back-off timer
      clock.advance(ms);
      await settle();
      return scripted.calls.length;
    };
    await asked();
    scripted.fail(new Error('disk gone'));
    expect(await callsAfter(sourceBackoffMs(0) - 1)).toBe(1);
    expect(await callsAfter(1)).toBe(2);
    scripted.fail(new Error('disk gone'));
    expect(await callsAfter(sourceBackoffMs(0))).toBe(2);
    expect(await callsAfter(sourceBackoffMs(1) - sourceBackoffMs(0))).toBe(3);
    scripted.give(imageOf(png));
    await asked();
    scripted.fail(new Error('disk gone'));
    expect(await callsAfter(sourceBackoffMs(0))).toBe(5);
    expect(logs.lines.filter((l) => l.msg === 'Source failed; trying again')).toHaveLength(3);
    expect(sourceBackoffMs(20)).toBe(30_000);
    await producer.stop(new Error('done'));
  });

  it('stops at once while backing off: the back-off timer is cleared, the clock need not move', async () => {
    const { clock, scripted, producer, asked } = await setUp();
    await asked();
    scripted.fail(new Error('disk gone'));
    await settle();
    expect(clock.pendingTimers).toBe(1);
    await producer.stop(new Error('closed'));
    expect(clock.pendingTimers).toBe(0);
    expect(producer.running).toBe(false);
    expect(scripted.calls).toHaveLength(1);
  });

  it('refuses a frame whose render began before the queue was dropped (a new prompt), and queues the next', async () => {
    const { queue, scripted, producer, png, asked, setBeforeRender } = await setUp();
    await asked();
    setBeforeRender(() => queue.drop(new Error('new prompt')));
    scripted.give(imageOf(png));
    await asked();
    expect(queue.length).toBe(0);
    setBeforeRender(() => {});
    const fresh = imageOf(png);
    scripted.give(fresh);
    await vi.waitFor(() => expect(queue.length).toBe(1));
    expect(queue.take()?.imageId).toBe(fresh.id);
    await producer.stop(new Error('done'));
  });

  it('tells the source of an image it cannot render, counts it, and goes on', async () => {
    const { scripted, producer, asked, rejected } = await setUp();
    await asked();
    const bad = imageOf(Buffer.from('not an image'));
    scripted.give(bad);
    await asked();
    expect(rejected()).toBe(1);
    expect(scripted.rejected[0]?.image).toBe(bad);
    expect(scripted.rejected[0]?.err).toMatchObject({ code: 'EASEL_ERR_IMAGE_UNREADABLE' });
    await producer.stop(new Error('done'));
  });

  it('switching sources aborts the old call to next() and resolves once the old producer let go', async () => {
    const { scripted, producer, asked } = await setUp();
    await asked();
    const next = createScriptedSource('next');
    await producer.switchTo(next.source, new Error('replaced'));
    expect(scripted.calls[0]?.signal.aborted).toBe(true);
    expect(scripted.asked).toBe(false);
    await vi.waitFor(() => expect(next.asked).toBe(true));
    await producer.stop(new Error('done'));
    expect(next.calls[0]?.signal.aborted).toBe(true);
  });
});
