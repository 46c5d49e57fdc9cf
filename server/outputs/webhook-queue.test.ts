import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { backoffDelay, createHookQueue, type AttemptResult, type DeliveryRecord } from './webhook-queue.js';

const record = (id: string): DeliveryRecord => ({
  id,
  hook: 0,
  event: 'job.done',
  canvas: 'stage',
  state: 'queued',
  attempts: 0,
  createdAt: new Date(0).toISOString(),
});

/** Resolves the attempts a test hands it, in order; records who was tried when. */
function scriptedReceiver(clock: FakeClock, answers: AttemptResult[]) {
  const tried: Array<{ id: string; at: number }> = [];
  return {
    tried,
    attempt: (r: DeliveryRecord) => {
      tried.push({ id: r.id, at: clock.now() });
      return Promise.resolve(answers.shift() ?? { ok: true as const, status: 200 });
    },
  };
}

/** Lets the promise chain of an attempt settle, then moves time. */
async function advance(clock: FakeClock, ms: number) {
  for (let i = 0; i < 5; i++) await Promise.resolve();
  clock.advance(ms);
  for (let i = 0; i < 5; i++) await Promise.resolve();
}

const fail500: AttemptResult = { ok: false, retry: true, status: 500, error: 'HTTP 500' };

describe('backoffDelay', () => {
  it('doubles from the base up to the cap, drawn from the upper half', () => {
    const opts = { baseDelayMs: 1000, maxDelayMs: 60_000 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, opts, () => 0))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, opts, () => 0.999999))).toEqual([1000, 2000, 4000, 8000]);
    expect(backoffDelay(20, opts, () => 0.999999)).toBe(60_000);
    expect(backoffDelay(20, opts, () => 0)).toBe(30_000);
  });

  it("honours a receiver's Retry-After, up to the cap", () => {
    const opts = { baseDelayMs: 1000, maxDelayMs: 60_000 };
    expect(backoffDelay(1, opts, () => 0, 30_000)).toBe(30_000);
    expect(backoffDelay(1, opts, () => 0, 3_600_000)).toBe(60_000);
  });
});

describe('a webhook queue', () => {
  it('never runs a request inside push: the caller (a pacer) only appends', async () => {
    const clock = new FakeClock();
    const receiver = scriptedReceiver(clock, []);
    const queue = createHookQueue({ clock, attempt: receiver.attempt });
    queue.push(record('a'));
    expect(receiver.tried).toEqual([]);
    await advance(clock, 0);
    expect(receiver.tried.map((t) => t.id)).toEqual(['a']);
  });

  it('retries a 500 with growing delays, then delivers, keeping the order', async () => {
    const clock = new FakeClock();
    const start = clock.now();
    const receiver = scriptedReceiver(clock, [fail500, fail500, fail500]);
    const ended: DeliveryRecord[] = [];
    const queue = createHookQueue({ clock, attempt: receiver.attempt, random: () => 0.5, onEnded: (r) => ended.push({ ...r }) });
    const a = record('a');
    queue.push(a);
    queue.push(record('b'));
    await advance(clock, 0);
    expect(a).toMatchObject({ state: 'retrying', attempts: 1, lastStatus: 500, lastError: 'HTTP 500' });
    // 750, 1500, 3000 ms with random() = 0.5; b waits behind a.
    for (const ms of [750, 1500, 3000]) await advance(clock, ms);
    await advance(clock, 0);
    expect(receiver.tried.map((t) => [t.id, t.at - start])).toEqual([
      ['a', 0],
      ['a', 750],
      ['a', 2250],
      ['a', 5250],
      ['b', 5250],
    ]);
    expect(ended.map((r) => [r.id, r.state, r.attempts])).toEqual([
      ['a', 'delivered', 4],
      ['b', 'delivered', 1],
    ]);
    expect(queue.stats).toEqual({ delivered: 2, failed: 0, dropped: 0, failedAttempts: 3 });
  });

  it('gives up after maxAttempts, and at once on an answer retrying cannot fix', async () => {
    const clock = new FakeClock();
    const receiver = scriptedReceiver(clock, [fail500, fail500, fail500, { ok: false, retry: false, status: 404, error: 'HTTP 404' }]);
    const queue = createHookQueue({ clock, attempt: receiver.attempt, maxAttempts: 3, random: () => 0 });
    const a = record('a');
    const b = record('b');
    queue.push(a);
    queue.push(b);
    for (let i = 0; i < 6; i++) await advance(clock, 60_000);
    expect(a).toMatchObject({ state: 'failed', attempts: 3, lastStatus: 500 });
    expect(b).toMatchObject({ state: 'failed', attempts: 1, lastStatus: 404 });
    expect(queue.stats).toMatchObject({ failed: 2, delivered: 0 });
  });

  it('drops the oldest waiting delivery when a receiver stays down, counting each', async () => {
    const clock = new FakeClock();
    const receiver = scriptedReceiver(
      clock,
      Array.from({ length: 100 }, () => fail500),
    );
    const queue = createHookQueue({ clock, attempt: receiver.attempt, maxQueue: 3, random: () => 0 });
    const records = ['a', 'b', 'c', 'd', 'e', 'f'].map(record);
    queue.push(records[0]!);
    await advance(clock, 0); // a is in flight (retrying), the rest wait behind it
    for (const r of records.slice(1)) queue.push(r);
    expect(records.map((r) => r.state)).toEqual(['retrying', 'dropped', 'dropped', 'queued', 'queued', 'queued']);
    expect(queue.stats.dropped).toBe(2);
    expect(queue.pending).toBe(4);
  });

  it('a throwing attempt counts as a network error and is retried', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const queue = createHookQueue({
      clock,
      random: () => 0,
      attempt: () => {
        calls++;
        return calls === 1 ? Promise.reject(new Error('socket hang up')) : Promise.resolve({ ok: true, status: 204 });
      },
    });
    const a = record('a');
    queue.push(a);
    await advance(clock, 0);
    expect(a).toMatchObject({ state: 'retrying', lastError: 'socket hang up' });
    await advance(clock, 500);
    expect(a).toMatchObject({ state: 'delivered', attempts: 2, lastStatus: 204 });
  });

  it('close stops retrying and says what was left', async () => {
    const clock = new FakeClock();
    const receiver = scriptedReceiver(clock, [fail500, fail500]);
    const queue = createHookQueue({ clock, attempt: receiver.attempt });
    queue.push(record('a'));
    queue.push(record('b'));
    await advance(clock, 0);
    expect(queue.close()).toBe(2);
    await advance(clock, 120_000);
    expect(receiver.tried).toHaveLength(1);
    expect(clock.pendingTimers).toBe(0);
  });
});
