import { afterEach, describe, expect, it, vi } from 'vitest';
import { canvasBadge } from '../../display/src/console/describe.js';
import { startDevInferenceService } from '../../tools/inference-dev.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder } from '../support/server.js';

// A service that is up (health SERVING) but never answers, or answers only with garbage: the
// canvas must leave for its fallback long before the 60 s call deadline, say so everywhere a
// technician looks, and come back by itself once the service answers again.

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(service: Parameters<typeof startDevInferenceService>[0]) {
  const dev = await startDevInferenceService({ latencyMs: 40, faultSeed: 3, ...service });
  cleanups.push(() => dev.close({ force: true }));
  const fallback = tempFolder();
  cleanups.push(fallback.remove);
  putImage(fallback.dir, 'a-fallback.png', await solidPng('#808080'));
  putImage(fallback.dir, 'b-fallback.png', await solidPng('#404040'));
  const server = await startTestServer({
    EASEL_INFERENCE_ENDPOINTS: dev.address,
    EASEL_FALLBACK_FOLDER: fallback.dir,
    EASEL_INFERENCE_WIDTH: '256',
    EASEL_INFERENCE_HEIGHT: '256',
    EASEL_INFERENCE_BUFFER_SECONDS: '1',
    EASEL_INFERENCE_STALL_MS: '1000',
    // Large on purpose: what moves the canvas must be the stall watch, not the deadline.
    EASEL_INFERENCE_DEADLINE_MS: '60000',
  });
  cleanups.push(() => server.close());
  const display = new DisplayClient(server.ws('gen'));
  cleanups.push(() => display.close());
  await display.opened;
  const readyz = async () => {
    const res = await fetch(server.http('/readyz'));
    return { status: res.status, body: (await res.json()) as { status: string; ready: boolean; problems: Array<Record<string, unknown>> } };
  };
  return { dev, server, display, readyz };
}

describe('an inference service that is up but never answers', () => {
  it('shows the fallback within seconds, says why in /readyz, the console and one log line, and recovers', async () => {
    const { dev, server, display, readyz } = await setup({ hangRate: 1 });
    const startedAt = performance.now();
    await vi.waitFor(() => expect(display.frames.filter((f) => f.header.source === 'folder').length).toBeGreaterThan(1), {
      timeout: 10_000,
      interval: 50,
    });
    expect(performance.now() - startedAt).toBeLessThan(15_000); // the deadline is 60 s
    expect(dev.stats.hangs).toBeGreaterThan(0);
    await vi.waitFor(() => expect(dev.stats.cancellations).toBeGreaterThan(0), { timeout: 5000 }); // the hung call was cancelled

    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body).toMatchObject({ status: 'degraded', ready: false });
    expect(body.problems).toContainEqual(
      expect.objectContaining({
        slug: 'gen',
        code: 'EASEL_ERR_INFERENCE_STALLED',
        reason: expect.stringContaining(dev.address),
        hint: expect.any(String),
        showing: 'fallback',
      }),
    );

    const snapshot = server.server.registry.get('gen')!.snapshot();
    expect(snapshot.source).toMatchObject({
      state: 'degraded',
      code: 'EASEL_ERR_INFERENCE_STALLED',
      details: { fallback: { active: true } },
    });
    expect(canvasBadge(snapshot as never)).toMatchObject({ tone: 'warn', text: expect.stringMatching(/fallback/i) });

    const stalledLines = server.logs.filter(
      (l) => l.slug === 'gen' && l.level === 40 && (l.err as { code?: string } | undefined)?.code === 'EASEL_ERR_INFERENCE_STALLED',
    );
    expect(stalledLines).toHaveLength(1); // retries go on without a line each
    const metrics = await (await fetch(server.http('/metrics'))).text();
    expect(metrics).toMatch(/easel_inference_errors_total\{code="EASEL_ERR_INFERENCE_STALLED"\} [1-9]/);

    // It keeps retrying: once the service answers, generated frames come back by themselves.
    const callsBefore = dev.stats.calls;
    dev.setFaults({ hangRate: 0 });
    await vi.waitFor(() => expect(display.frames.at(-1)!.header.source).toBe('inference'), { timeout: 20_000, interval: 50 });
    expect(dev.stats.calls).toBeGreaterThan(callsBefore);
    await vi.waitFor(async () => expect((await readyz()).body).toMatchObject({ status: 'ready', ready: true, problems: [] }), {
      timeout: 5000,
      interval: 100,
    });
  });

  it('treats a service that sends only garbage the same way', async () => {
    const { dev, display, readyz } = await setup({ garbageRate: 1 });
    await vi.waitFor(() => expect(display.frames.filter((f) => f.header.source === 'folder').length).toBeGreaterThan(1), {
      timeout: 10_000,
      interval: 50,
    });
    expect(display.frames.some((f) => f.header.source === 'inference')).toBe(false);
    const { status, body } = await readyz();
    expect(status).toBe(503);
    expect(body.problems).toContainEqual(
      expect.objectContaining({ slug: 'gen', code: 'EASEL_ERR_INFERENCE_BAD_IMAGE', showing: 'fallback' }),
    );

    dev.setFaults({ garbageRate: 0 });
    await vi.waitFor(() => expect(display.frames.at(-1)!.header.source).toBe('inference'), { timeout: 20_000, interval: 50 });
  });
});

describe('truthful health with the generator down', () => {
  it('answers 503 degraded, naming the configured endpoint in the hint', async () => {
    const { dev, display, readyz } = await setup({});
    await vi.waitFor(() => expect(display.frames.some((f) => f.header.source === 'inference')).toBe(true), { timeout: 10_000 });
    expect((await readyz()).status).toBe(200);
    await dev.close({ force: true });
    await vi.waitFor(() => expect(display.frames.at(-1)!.header.source).toBe('folder'), { timeout: 10_000, interval: 50 });
    await vi.waitFor(
      async () => {
        const { status, body } = await readyz();
        expect(status).toBe(503);
        expect(body.status).toBe('degraded');
        const gen = body.problems.find((p) => p.slug === 'gen')!;
        expect(gen).toMatchObject({ code: 'EASEL_ERR_INFERENCE_UNAVAILABLE', showing: 'fallback' });
        expect(gen.hint).toContain(`"${dev.address}"`);
        expect(gen.hint).toContain(`--port ${dev.port}`);
      },
      { timeout: 10_000, interval: 100 },
    );
  });
});
