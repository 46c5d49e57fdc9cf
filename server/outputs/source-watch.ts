/**
 * Source trouble as events: each canvas's source says how it is (`status()`: ok, waiting,
 * degraded, failed), but nobody is told when that changes. This looks once a second and emits a
 * `source` event on the bus when a canvas's source goes into trouble (degraded or failed: the
 * inference service is down and the fallback shows, a folder has no usable image, a still is
 * gone) or comes out of it. Looking is a status() call per canvas; a canvas first seen in
 * trouble is reported, one first seen fine is not.
 */
import type { EaselEvent } from '../control/events.js';
import type { Clock } from '../stream/clock.js';
import type { SourceStatus } from '../stream/source.js';

export interface SourceWatchOptions {
  canvases: { list(): Array<{ slug: string; source: { status(): SourceStatus } }> };
  emit: (event: EaselEvent) => void;
  clock: Clock;
  /** Default 1000 ms. */
  everyMs?: number;
}

const inTrouble = (s: SourceStatus) => s.state === 'degraded' || s.state === 'failed';

export function createSourceWatch(options: SourceWatchOptions) {
  const { clock } = options;
  const everyMs = options.everyMs ?? 1000;
  const down = new Map<string, boolean>();
  let timer: unknown;
  let stopped = false;

  function look() {
    const seen = new Set<string>();
    for (const canvas of options.canvases.list()) {
      seen.add(canvas.slug);
      let status: SourceStatus;
      try {
        status = canvas.source.status();
      } catch {
        continue; // a source closing under us: next look
      }
      const now = inTrouble(status);
      const before = down.get(canvas.slug);
      down.set(canvas.slug, now);
      if (now === (before ?? false)) continue;
      options.emit({
        type: 'source',
        slug: canvas.slug,
        health: now ? 'down' : 'up',
        state: status.state,
        ...(status.code && { code: status.code }),
        ...(status.reason && { reason: status.reason }),
      });
    }
    for (const slug of [...down.keys()]) if (!seen.has(slug)) down.delete(slug);
  }

  function tick() {
    look();
    if (!stopped) timer = clock.setTimeout(tick, everyMs);
  }
  timer = clock.setTimeout(tick, everyMs);

  return {
    /** Looks now (tests; the timer does it every second). */
    look,
    stop() {
      stopped = true;
      clock.clearTimeout(timer);
    },
  };
}
