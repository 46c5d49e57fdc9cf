import type { TemplatedApp } from 'uWebSockets.js';
import type { Registry } from '../canvas/registry.js';
import { replyJson } from './http-reply.js';

/**
 * /healthz: the process is up. /readyz: it can serve displays, with each canvas's state in plain
 * words; 503 while shutting down or while a declared canvas has nothing it can show.
 */
export function registerHealthRoutes(app: TemplatedApp, deps: { registry: Registry; isClosing: () => boolean; startedAt: number }): void {
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
    replyJson(res, ready ? 200 : 503, {
      ready,
      ...(closing ? { reason: 'Server is shutting down' } : {}),
      problems,
      canvases: Object.fromEntries(
        canvases.map((c) => [c.slug, { state: c.state, source: c.source.kind, sourceState: c.source.state, displays: c.displays, lastFrameAt: c.lastFrame?.timestamp ?? null }]),
      ),
    });
  });
}
