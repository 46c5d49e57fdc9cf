import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import type { EaselEvent } from '../control/events.js';
import { webhookEventOf } from './webhook-events.js';
import { createWebhooks, hookTarget, signWebhook } from './webhooks.js';

const SECRET = 'unit-test-secret-0123456789';
const done: EaselEvent = {
  type: 'job',
  job: { id: 'j1', slug: 'stage', prompt: 'a boat', count: 1, produced: 1, state: 'done', createdAt: '' },
};

describe('webhook events', () => {
  it('chooses the events hooks can subscribe to, and what each carries', () => {
    expect(webhookEventOf(done)).toMatchObject({ event: 'job.done', canvas: 'stage', data: { job: { id: 'j1' } } });
    expect(webhookEventOf({ ...done, job: { ...(done as { job: object }).job, state: 'generating' } } as EaselEvent)).toBeUndefined();
    expect(webhookEventOf({ type: 'source', slug: 's', health: 'up', state: 'ok' })).toEqual({
      event: 'source.up',
      canvas: 's',
      data: { state: 'ok', code: undefined, reason: undefined },
    });
    expect(webhookEventOf({ type: 'display', slug: 's', event: 'lost', display: 3, address: '10.0.0.4', displays: 0, code: 1006 })).toEqual(
      {
        event: 'display.lost',
        canvas: 's',
        data: { display: 3, address: '10.0.0.4', displays: 0, code: 1006 },
      },
    );
    expect(
      webhookEventOf({
        type: 'playlist',
        name: 'show',
        event: 'step-started',
        detail: { playlist: 'show', slugs: ['l', 'r'], stepIndex: 1, stepCount: 3, step: 'pause for 20s', loopCount: 0 },
      }),
    ).toMatchObject({ event: 'playlist.step', canvas: 'l', data: { slugs: ['l', 'r'], stepIndex: 1 } });
    expect(webhookEventOf({ type: 'playlist', name: 'show', event: 'ended' })).toBeUndefined();
    expect(webhookEventOf({ type: 'canvas', slug: 'v', created: 'display' })).toEqual({
      event: 'canvas.created',
      canvas: 'v',
      data: { createdBy: 'display' },
    });
    expect(webhookEventOf({ type: 'canvas', slug: 'v', state: 'paused' })).toBeUndefined();
  });

  it('signs the raw body as sha256=<hex>, and shows a hook by its origin only', () => {
    expect(signWebhook('key', 'The quick brown fox jumps over the lazy dog')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
    expect(hookTarget('https://user:pw@hooks.example:8443/services/T0/B0/XYZ?x=1')).toBe('https://hooks.example:8443');
  });
});

describe('a webhook whose receiver never answers', () => {
  let close: (() => Promise<void>) | undefined;
  afterEach(async () => close?.());

  it('gives up each attempt after timeoutMs on the injected clock, retries, then fails', async () => {
    const held: ServerResponse[] = [];
    const receiver = createServer((_req: IncomingMessage, res) => held.push(res));
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    close = async () => {
      for (const res of held) res.destroy();
      await new Promise((r) => receiver.close(r));
    };
    const clock = new FakeClock();
    const { logger } = captureLogs('warn');
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const hooks = createWebhooks({
      hooks: [{ url, events: ['job.done'], secret: SECRET }],
      clock,
      logger,
      timeoutMs: 10_000,
      maxAttempts: 2,
      random: () => 0,
    });
    hooks.handle(done);
    clock.advance(0);
    await vi.waitFor(() => expect(held).toHaveLength(1));
    expect(hooks.deliveries({ limit: 10 })[0]).toMatchObject({ state: 'sending', attempts: 1 });
    clock.advance(10_000);
    await vi.waitFor(() =>
      expect(hooks.deliveries({ limit: 10 })[0]).toMatchObject({ state: 'retrying', lastError: 'no answer within 10000 ms' }),
    );
    clock.advance(500); // the first backoff, with random() = 0
    await vi.waitFor(() => expect(held).toHaveLength(2));
    clock.advance(10_000);
    await vi.waitFor(() => expect(hooks.deliveries({ limit: 10 })[0]).toMatchObject({ state: 'failed', attempts: 2 }));
    expect(hooks.totals()).toEqual({ delivered: 0, failed: 1, dropped: 0, failedAttempts: 2 });
    hooks.close();
  });
});
