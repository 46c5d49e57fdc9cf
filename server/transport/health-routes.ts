import type { TemplatedApp } from 'uWebSockets.js';
import type { CanvasSnapshot } from '../canvas/canvas.js';
import type { Registry } from '../canvas/registry.js';
import type { RedisState } from '../cluster/cluster.js';
import { clockReadiness, type NodeClock } from '../cluster/clock-sync.js';
import type { ErrorCode } from '../errors.js';
import type { InferenceClient, InferenceClientStatus } from '../inference/client.js';
import { systemClock, type Clock } from '../stream/clock.js';
import { replyJson } from './http-reply.js';

/**
 * /healthz: the process is up. /readyz: everything works as configured, with each canvas's
 * state in plain words. A wall on its fallback folder still shows pictures, but not the ones it
 * was set up for: that is 503 with `status: "degraded"`, so monitoring raises it, while
 * `status: "unready"` says a canvas has nothing at all to show.
 */
export interface HealthDeps {
  registry: Registry;
  isClosing: () => boolean;
  /** Clock ms when the server started. */
  startedAt: number;
  inference?: InferenceClient | undefined;
  clock?: Clock;
  /** In cluster mode: whether Redis is reachable, and which canvases this node answers for (those it produces). */
  cluster?: { redisState(): RedisState; clock?(): NodeClock; producedHere(slug: string): boolean } | undefined;
}

export type Readiness = 'ready' | 'degraded' | 'unready' | 'shutting-down';

export interface ReadinessProblem {
  /** The canvas, or absent for the inference service as a whole. */
  slug?: string;
  code?: string | undefined;
  reason: string;
  hint: string;
  /** What the canvas's screens show meanwhile. */
  showing?: 'fallback' | 'last frame' | 'nothing';
}

function showing(c: CanvasSnapshot): ReadinessProblem['showing'] {
  const fallback = c.source.details?.fallback as { active?: unknown } | undefined;
  if (fallback?.active === true) return 'fallback';
  return c.lastFrame ? 'last frame' : 'nothing';
}

/** What /readyz answers, from the canvases, the inference client and Redis; pure, so it is tested alone. */
export function readiness(
  canvases: CanvasSnapshot[],
  inference: InferenceClientStatus | undefined,
  closing: boolean,
  redis?: RedisState,
  clock?: NodeClock,
) {
  const problems: ReadinessProblem[] = [];
  let unready = false;
  for (const c of canvases) {
    const { state } = c.source;
    if (state === 'ok' || (state === 'waiting' && c.lastFrame)) continue;
    const shows = showing(c);
    if (shows === 'nothing') unready = true;
    problems.push({
      slug: c.slug,
      code: c.source.code,
      reason: c.source.reason ?? 'Canvas has no frame yet',
      hint: c.source.hint ?? 'Wait a moment',
      showing: shows,
    });
  }
  // Endpoints down count even when every canvas is on a folder: prompts would fail.
  if (inference && (inference.state === 'down' || inference.state === 'degraded') && inference.reason) {
    problems.push({
      code: inference.state === 'down' ? 'EASEL_ERR_INFERENCE_UNAVAILABLE' : undefined,
      reason: inference.reason,
      hint: inference.hint ?? 'Start the inference service or fix inference.endpoints',
    });
  }
  // This node still serves its own displays without Redis: degraded, not unready.
  if (redis?.state === 'down') {
    problems.push({
      code: 'EASEL_ERR_REDIS_UNAVAILABLE' satisfies ErrorCode,
      reason: `Redis is unreachable${redis.reason ? ` (${redis.reason})` : ''}: nothing crosses nodes; this node keeps producing the canvases it owned for its own displays only, and displays of the other canvases keep their last frame`,
      hint: 'Start Redis or fix cluster.redisUrl; the node rejoins the cluster by itself when Redis is back',
    });
  }
  // Cluster mode: a correction that cannot be vouched for degrades; a node clock that is far off but corrected only warns.
  const time = clock && redis ? clockReadiness(clock, redis) : {};
  if (time.problem) problems.push(time.problem);
  const status: Readiness = closing ? 'shutting-down' : unready ? 'unready' : problems.length > 0 ? 'degraded' : 'ready';
  return { status, ready: status === 'ready', problems, ...(time.warning ? { warnings: [time.warning] } : {}) };
}

export function registerHealthRoutes(app: TemplatedApp, deps: HealthDeps): void {
  app.get('/healthz', (res) => {
    replyJson(res, 200, { status: 'ok', uptimeSeconds: Math.round(((deps.clock ?? systemClock).now() - deps.startedAt) / 1000) });
  });

  app.get('/readyz', (res) => {
    const cluster = deps.cluster;
    const canvases = deps.registry
      .list()
      .filter((c) => !cluster || cluster.producedHere(c.slug))
      .map((c) => c.snapshot());
    const inference = deps.inference?.status();
    const redis = deps.cluster?.redisState();
    const clock = deps.cluster?.clock?.();
    const { status, ready, problems, warnings } = readiness(canvases, inference, deps.isClosing(), redis, clock);
    replyJson(res, ready ? 200 : 503, {
      status,
      ready,
      ...(status === 'shutting-down' ? { reason: 'Server is shutting down' } : {}),
      problems,
      ...(warnings ? { warnings } : {}),
      ...(inference
        ? {
            inference: {
              state: inference.state,
              ...(inference.reason ? { reason: inference.reason, hint: inference.hint } : {}),
              endpoints: inference.endpoints.map((e) => ({ address: e.address, state: e.state, reason: e.reason })),
            },
          }
        : {}),
      ...(redis ? { cluster: { redis: redis.state } } : {}),
      ...(clock ? { clock: { state: clock.state, offsetMs: clock.offsetMs, correctionMs: clock.correctionMs } } : {}),
      canvases: Object.fromEntries(
        canvases.map((c) => [
          c.slug,
          {
            state: c.state,
            source: c.source.kind,
            sourceState: c.source.state,
            displays: c.displays,
            lastFrameAt: c.lastFrame?.timestamp ?? null,
          },
        ]),
      ),
    });
  });
}
