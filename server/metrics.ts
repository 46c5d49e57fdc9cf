import { readFileSync } from 'node:fs';
import path from 'node:path';
import client from 'prom-client';
import { mirroredCounter } from './mirrored-metrics.js';
import { PROJECT_ROOT } from './config.js';
import type { Registry as CanvasRegistry } from './canvas/registry.js';
import type { OscResult } from './control/osc-listener.js';
import type { InferenceClient } from './inference/client.js';
import { isEaselError } from './errors.js';
import type { Renderer } from './stream/renderer.js';
import type { RelayStats } from './cluster/relay.js';
import { registerClusterMetrics, type ClusterMetricsSources } from './cluster/cluster-metrics.js';
import type { Display } from './canvas/channel.js';
import type { DisplayRoute } from './transport/display-route.js';

export interface MetricsSources {
  canvases: CanvasRegistry;
  renderer: Renderer;
  displays: DisplayRoute;
  inference: InferenceClient | undefined;
  /** OSC results since start; undefined while OSC is off. Read at each scrape. */
  osc?: () => Readonly<Record<OscResult, number>> | undefined;
  /** Requests refused by a limit outside the display route (descriptors, event streams), by reason. */
  refusedRequests?: () => Record<string, number>;
  /** Cluster mode: this node's side of the frame relay; undefined when running alone. */
  relay?: () => Readonly<RelayStats> | undefined;
  /** OSC out and webhook counts; each undefined while not configured. */
  outputs?: () => { osc?: Readonly<Record<string, number>> | undefined; webhooks?: Readonly<Record<string, number>> | undefined };
  /** Cluster mode only: the `easel_cluster_*` series (registered at bind). */
  cluster?: ClusterMetricsSources | undefined;
}

/**
 * Prometheus metrics (`GET /metrics`). Counts that canvases and routes keep anyway are read
 * at scrape time; only timings that exist nowhere else (render, pacing, inference) are observed
 * as they happen. One registry per server, so tests can run several.
 */
/** Node's defaults that are gauges named `_total`, which Prometheus naming (and promtool) forbids; the per-type gauges beside them hold the same numbers. */
const DEFAULTS_MISNAMED = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** The version in package.json, read once: the build_info label. */
const VERSION = (() => {
  try {
    return (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
})();

/** Seconds, the Prometheus base unit, from the milliseconds the rest of Easel measures in. */
const seconds = (ms: number) => ms / 1000;

export function createMetrics() {
  const register = new client.Registry();
  /** What the scrape reads; set by bind() once the server is wired. */
  let sources: MetricsSources | undefined;
  // Unprefixed, so the usual Node dashboards (process_*, nodejs_*) work as they are.
  client.collectDefaultMetrics({ register });
  for (const name of DEFAULTS_MISNAMED) register.removeSingleMetric(name);
  new client.Gauge({
    name: 'easel_build_info',
    help: 'Always 1; the labels say which Easel and which Node are running',
    labelNames: ['version', 'node'],
    registers: [register],
  }).set({ version: VERSION, node: process.version }, 1);
  const canvasLabel = ['canvas'] as const;
  const snapshots = () => sources?.canvases.list().map((c) => c.snapshot()) ?? [];

  const counter = (
    name: string,
    help: string,
    read: () => Array<[Record<string, string>, number]>,
    labelNames: readonly string[] = canvasLabel,
  ) => mirroredCounter(register, name, help, read, labelNames);

  counter('easel_frames_published_total', 'Frames a canvas published to its displays', () =>
    snapshots().map((s) => [{ canvas: s.slug }, s.counters.published]),
  );
  counter('easel_frames_skipped_total', 'Frame sends skipped because a display had not taken the previous one', () =>
    snapshots().map((s) => [{ canvas: s.slug }, s.counters.skippedSends]),
  );
  counter('easel_slots_held_total', 'Frame slots with no new frame ready (the canvas held)', () =>
    snapshots().map((s) => [{ canvas: s.slug }, s.counters.held]),
  );
  counter('easel_images_rejected_total', 'Source images that could not be rendered', () =>
    snapshots().map((s) => [{ canvas: s.slug }, s.counters.rejected]),
  );
  counter('easel_displays_closed_slow_total', 'Displays closed for taking no frame too long', () =>
    snapshots().map((s) => [{ canvas: s.slug }, s.counters.stalledClosed]),
  );
  // Cluster mode: alone, the labelled ones have no series and the byte count stays 0.
  const relay = () => sources?.relay?.();
  counter(
    'easel_relay_frames_sent_total',
    'Frames of canvases this node produces sent to the other nodes through Redis, by result',
    () => {
      const r = relay();
      return r
        ? [
            [{ result: 'sent' }, r.published],
            [{ result: 'fenced' }, r.publishFenced],
            [{ result: 'failed' }, r.publishFailed],
          ]
        : [];
    },
    ['result'],
  );
  counter(
    'easel_relay_bytes_sent_total',
    'Bytes of relayed frames this node sent through Redis',
    () => {
      const r = relay();
      return r ? [[{}, r.bytesPublished]] : [];
    },
    [],
  );
  counter(
    'easel_relay_frames_received_total',
    'Relayed frames that reached this node, by result (shown, or why refused)',
    () => {
      const r = relay();
      return r
        ? [
            [{ result: 'shown' }, r.shown],
            ...Object.entries(r.refused).map(([result, n]): [Record<string, string>, number] => [{ result }, n]),
          ]
        : [];
    },
    ['result'],
  );
  counter(
    'easel_connections_refused_total',
    'Display connections refused before the upgrade, by reason',
    () => Object.entries(sources?.displays.refused ?? {}).map(([reason, n]) => [{ reason }, n]),
    ['reason'],
  );
  counter(
    'easel_requests_refused_total',
    'HTTP requests refused by a limit other than the display ones, by reason',
    () => Object.entries(sources?.refusedRequests?.() ?? {}).map(([reason, n]) => [{ reason }, n]),
    ['reason'],
  );
  counter(
    'easel_osc_messages_total',
    'OSC messages received, by result (malformed: not understood; refused: the command failed)',
    () => Object.entries(sources?.osc?.() ?? {}).map(([result, n]) => [{ result }, n]),
    ['result'],
  );
  counter(
    'easel_osc_out_messages_total',
    'OSC messages sent to osc.targets, one per target, by result (failed: the socket refused it; unresolved: the host name did not resolve)',
    () => Object.entries(sources?.outputs?.().osc ?? {}).map(([result, n]) => [{ result }, n]),
    ['result'],
  );
  counter(
    'easel_webhook_deliveries_total',
    'Webhook deliveries ended, by result (dropped: the queue was full while the receiver was down)',
    () =>
      Object.entries(sources?.outputs?.().webhooks ?? {})
        .filter(([result]) => result !== 'failedAttempts')
        .map(([result, n]) => [{ result }, n]),
    ['result'],
  );
  counter(
    'easel_webhook_attempts_failed_total',
    'Webhook attempts that did not deliver (a receiver error, a timeout, no connection), retried or not',
    () => [[{}, sources?.outputs?.().webhooks?.failedAttempts ?? 0]],
    [],
  );
  counter(
    'easel_client_messages_ignored_total',
    'Display messages outside the protocol, ignored',
    () => [[{}, sources?.displays.ignoredMessages ?? 0]],
    [],
  );

  counter('easel_display_frames_late_total', 'Frames screens reported putting up after their presentAt (shown at once)', () =>
    [...(sources?.displays.lateFrames ?? [])].map(([canvas, n]) => [{ canvas }, n]),
  );
  /** Per screen, from its last report: bounded by limits.maxConnections, and gone when the screen goes. */
  const displayGauge = (name: string, help: string, read: (sync: NonNullable<Display['sync']>, d: Display) => number) =>
    new client.Gauge({
      name,
      help,
      labelNames: ['canvas', 'display'],
      registers: [register],
      collect() {
        this.reset();
        for (const canvas of sources?.canvases.list() ?? []) {
          for (const d of canvas.channel.displays) {
            if (d.sync) this.set({ canvas: canvas.slug, display: String(d.id) }, read(d.sync, d));
          }
        }
      },
    });
  displayGauge('easel_display_clock_offset_seconds', 'Screen wall clock minus server clock', (_s, d) => seconds(d.clockOffsetMs ?? 0));
  displayGauge('easel_display_clock_error_seconds', "How far a screen's estimate of the server clock may be off", (s) =>
    seconds(s.errorMs),
  );
  displayGauge('easel_display_round_trip_seconds', 'Smallest recent ping round trip of a screen', (s) => seconds(s.rttMs));

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
    name: 'easel_displays_connected_by_wire',
    help: 'Displays connected to a canvas, by what they speak: v2, v1 or json over WebSocket, mjpeg over HTTP',
    labelNames: ['canvas', 'wire'],
    registers: [register],
    collect() {
      this.reset();
      for (const canvas of sources?.canvases.list() ?? []) {
        const byWire = new Map<string, number>();
        for (const d of canvas.channel.displays) byWire.set(d.wire, (byWire.get(d.wire) ?? 0) + 1);
        for (const [wire, n] of byWire) this.set({ canvas: canvas.slug, wire }, n);
      }
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

  const renderSeconds = new client.Histogram({
    name: 'easel_render_seconds',
    help: 'Time to decode, resize and encode one frame (all its renditions)',
    buckets: [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28],
    registers: [register],
  });
  const pacingSeconds = new client.Histogram({
    name: 'easel_pacing_deviation_seconds',
    help: 'How late a frame slot fired against its drift-free schedule',
    labelNames: canvasLabel,
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
    registers: [register],
  });
  const inferenceSeconds = new client.Histogram({
    name: 'easel_inference_seconds',
    help: 'Time the inference service reported per generated image',
    buckets: [0.025, 0.05, 0.1, 0.2, 0.4, 0.8, 1.6, 3.2],
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
      if (wired.cluster) registerClusterMetrics(register, wired.cluster);
    },
    observeRender: (ms: number) => renderSeconds.observe(seconds(ms)),
    observePacing: (canvas: string, lateMs: number) => pacingSeconds.observe({ canvas }, seconds(Math.max(0, lateMs))),
    /** A removed canvas's series go too: strangers' slugs that come and go must not pile up. */
    forgetCanvas: (canvas: string) => pacingSeconds.remove({ canvas }),
    observeInference: (ms: number) => inferenceSeconds.observe(seconds(ms)),
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
        // A call the source cancelled as stalled is a failure of the service, unlike a prompt change.
        const stalled = isEaselError(options?.signal?.reason, 'EASEL_ERR_INFERENCE_STALLED');
        if (!options?.signal?.aborted || stalled) metrics.countInferenceError((err as { code?: string }).code ?? 'unknown');
        throw err;
      }
    },
    getInfo: (o) => inner.getInfo(o),
    status: () => inner.status(),
    onChange: (l) => inner.onChange(l),
    close: () => inner.close(),
  };
}
