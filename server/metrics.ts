import client from 'prom-client';
import type { Registry as CanvasRegistry } from './canvas/registry.js';
import type { InferenceClient } from './inference/client.js';
import type { Renderer } from './stream/renderer.js';
import type { DisplayRoute } from './transport/display-route.js';

export interface MetricsSources {
  canvases: CanvasRegistry;
  renderer: Renderer;
  displays: DisplayRoute;
  inference: InferenceClient | undefined;
}

/**
 * Prometheus metrics (`GET /metrics`). Counts that canvases and routes keep anyway are read
 * at scrape time; only timings that exist nowhere else (render, pacing, inference) are observed
 * as they happen. One registry per server, so tests can run several.
 */
export function createMetrics() {
  const register = new client.Registry();
  /** What the scrape reads; set by bind() once the server is wired. */
  let sources: MetricsSources | undefined;
  client.collectDefaultMetrics({ register, prefix: 'easel_' });
  const canvasLabel = ['canvas'] as const;
  const snapshots = () => sources?.canvases.list().map((c) => c.snapshot()) ?? [];

  /** A counter whose value lives elsewhere: set at each scrape from `read`. */
  const mirroredCounter = (name: string, help: string, read: () => Array<[Record<string, string>, number]>, labelNames: readonly string[] = canvasLabel) =>
    new client.Counter({
      name,
      help,
      labelNames,
      registers: [register],
      collect() {
        this.reset();
        for (const [labels, value] of read()) this.inc(labels, value);
      },
    });

  mirroredCounter('easel_frames_published_total', 'Frames a canvas published to its displays', () => snapshots().map((s) => [{ canvas: s.slug }, s.counters.published]));
  mirroredCounter('easel_frames_skipped_total', 'Frame sends skipped because a display had not taken the previous one', () => snapshots().map((s) => [{ canvas: s.slug }, s.counters.skippedSends]));
  mirroredCounter('easel_slots_held_total', 'Frame slots with no new frame ready (the canvas held)', () => snapshots().map((s) => [{ canvas: s.slug }, s.counters.held]));
  mirroredCounter('easel_images_rejected_total', 'Source images that could not be rendered', () => snapshots().map((s) => [{ canvas: s.slug }, s.counters.rejected]));
  mirroredCounter('easel_displays_closed_slow_total', 'Displays closed for taking no frame too long', () => snapshots().map((s) => [{ canvas: s.slug }, s.counters.stalledClosed]));
  mirroredCounter('easel_connections_refused_total', 'Display connections refused before the upgrade, by reason', () =>
    Object.entries(sources?.displays.refused ?? {}).map(([reason, n]) => [{ reason }, n]), ['reason']);
  mirroredCounter('easel_client_messages_ignored_total', 'Display messages outside the protocol, ignored', () => [[{}, sources?.displays.ignoredMessages ?? 0]], []);

  new client.Gauge({
    name: 'easel_displays_connected',
    help: 'Displays connected to a canvas',
    labelNames: canvasLabel,
    registers: [register],
    collect() {
      this.reset();
      for (const s of snapshots()) this.set({ canvas: s.slug }, s.displays);
    },
  });
  new client.Gauge({
    name: 'easel_source_state',
    help: 'Source state of each canvas: 1 for the current state',
    labelNames: ['canvas', 'kind', 'state'],
    registers: [register],
    collect() {
      this.reset();
      for (const s of snapshots()) this.set({ canvas: s.slug, kind: s.source.kind, state: s.source.state }, 1);
    },
  });
  new client.Gauge({
    name: 'easel_render_cache_bytes',
    help: 'Bytes of encoded renditions kept for images that repeat (bounded by render.cacheMegabytes)',
    registers: [register],
    collect() {
      this.set(sources?.renderer.cacheBytes ?? 0);
    },
  });
  // prom-client's defaults have heap and external memory but not the array buffers inside external.
  new client.Gauge({
    name: 'easel_array_buffers_bytes',
    help: 'Bytes of ArrayBuffers and Buffers (part of external memory): frames, renditions, source images',
    registers: [register],
    collect() {
      this.set(process.memoryUsage().arrayBuffers);
    },
  });
  new client.Gauge({
    name: 'easel_inference_endpoint_up',
    help: 'Inference endpoints: 1 when serving',
    labelNames: ['endpoint'],
    registers: [register],
    collect() {
      this.reset();
      for (const e of sources?.inference?.status().endpoints ?? []) this.set({ endpoint: e.address }, e.state === 'up' ? 1 : 0);
    },
  });

  const renderMs = new client.Histogram({
    name: 'easel_render_ms',
    help: 'Time to decode, resize and encode one frame (all its renditions), ms',
    buckets: [5, 10, 20, 40, 80, 160, 320, 640, 1280],
    registers: [register],
  });
  const pacingMs = new client.Histogram({
    name: 'easel_pacing_deviation_ms',
    help: 'How late a frame slot fired against its drift-free schedule, ms',
    labelNames: canvasLabel,
    buckets: [0.5, 1, 2, 5, 10, 20, 50, 100, 250],
    registers: [register],
  });
  const inferenceMs = new client.Histogram({
    name: 'easel_inference_ms',
    help: 'Time the inference service reported per generated image, ms',
    buckets: [25, 50, 100, 200, 400, 800, 1600, 3200],
    registers: [register],
  });
  const inferenceErrors = new client.Counter({
    name: 'easel_inference_errors_total',
    help: 'Failed inference calls, by error code',
    labelNames: ['code'],
    registers: [register],
  });

  return {
    register,
    bind(wired: MetricsSources) {
      sources = wired;
    },
    observeRender: (ms: number) => renderMs.observe(ms),
    observePacing: (canvas: string, lateMs: number) => pacingMs.observe({ canvas }, Math.max(0, lateMs)),
    observeInference: (ms: number) => inferenceMs.observe(ms),
    countInferenceError: (code: string) => inferenceErrors.inc({ code }),
    async text(): Promise<{ body: string; contentType: string }> {
      return { body: await register.metrics(), contentType: register.contentType };
    },
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

/** The inference client as the sources see it, with each image's time and each failure counted. */
export function observedInference(inner: InferenceClient, metrics: Metrics): InferenceClient {
  return {
    ...inner,
    async *generate(request, options) {
      try {
        for await (const image of inner.generate(request, options)) {
          metrics.observeInference(image.inferenceMs);
          yield image;
        }
      } catch (err) {
        if (!options?.signal?.aborted) metrics.countInferenceError((err as { code?: string }).code ?? 'unknown');
        throw err;
      }
    },
    getInfo: (o) => inner.getInfo(o),
    status: () => inner.status(),
    onChange: (l) => inner.onChange(l),
    close: () => inner.close(),
  };
}
