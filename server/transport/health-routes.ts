import type { TemplatedApp } from 'uWebSockets.js';
import type { Registry } from '../canvas/registry.js';
import type { InferenceClient } from '../inference/client.js';
import { replyJson } from './http-reply.js';

/**
 * /healthz: the process is up. /readyz: it can serve displays, with each canvas's state in plain
 * words; 503 while shutting down or while a declared canvas has nothing it can show.
 */
export interface HealthDeps {
  registry: Registry;
  isClosing: () => boolean;
  startedAt: number;
  inference?: InferenceClient | undefined;
}

export function registerHealthRoutes(app: TemplatedApp, deps: HealthDeps): void {
  app.get('/healthz', (res) => {
    replyJson(res, 200, { status: 'ok', uptimeSeconds: Math.round((Date.now() - deps.startedAt) / 1000) });
  });

  app.get('/readyz', (res) => {
    const canvases = deps.registry.list().map((c) => c.snapshot());
    const problems = canvases
      .filter((c) => c.source.state === 'failed' || (c.source.state !== 'ok' && c.lastFrame === null))
      .map((c) => ({ slug: c.slug, code: c.source.code, reason: c.source.reason ?? 'Canvas has no frame yet', hint: c.source.hint ?? 'Wait a moment' }));
    const closing = deps.isClosing();
    const ready = !closing && problems.length === 0;
    // A canvas on its fallback folder still shows something: the inference state is reported,
    // in words, without making the server unready.
    const inference = deps.inference?.status();
    replyJson(res, ready ? 200 : 503, {
      ready,
      ...(closing ? { reason: 'Server is shutting down' } : {}),
      problems,
      ...(inference
        ? {
            inference: {
              state: inference.state,
              ...(inference.reason ? { reason: inference.reason, hint: inference.hint } : {}),
              endpoints: inference.endpoints.map((e) => ({ address: e.address, state: e.state, reason: e.reason })),
            },
          }
        : {}),
      canvases: Object.fromEntries(
        canvases.map((c) => [c.slug, { state: c.state, source: c.source.kind, sourceState: c.source.state, displays: c.displays, lastFrameAt: c.lastFrame?.timestamp ?? null }]),
      ),
    });
  });
}
