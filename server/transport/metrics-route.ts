import type { TemplatedApp } from 'uWebSockets.js';

/** `GET /metrics`: the Prometheus text, answered unless the scraper went away meanwhile. */
export function registerMetricsRoute(app: TemplatedApp, metrics: { text(): Promise<{ body: string; contentType: string }> }): void {
  app.get('/metrics', (res) => {
    res.onAborted(() => (res.aborted = true));
    void metrics.text().then(({ body, contentType }) => {
      if (!res.aborted) res.cork(() => res.writeHeader('content-type', contentType).end(body));
    });
  });
}
