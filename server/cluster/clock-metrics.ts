import client from 'prom-client';
import type { NodeClock } from './clock-sync.js';

/**
 * This node's clock against the cluster's (Redis's), for /metrics: its own offset (what NTP should
 * bring near 0), the error of that estimate and the correction applied; cluster mode only. Alert on
 * `abs(easel_cluster_clock_offset_seconds) > 0.05` (the node's host needs NTP) and on
 * `easel_cluster_clock_synced == 0` (its screens may be out of step with other nodes').
 */
export function registerClockMetrics(register: client.Registry, read: () => NodeClock): void {
  const gauge = (name: string, help: string, value: (c: NodeClock) => number | null) =>
    new client.Gauge({
      name,
      help,
      registers: [register],
      collect() {
        // NaN before the first measurement: unknown, which 0 would hide.
        this.set(value(read()) ?? Number.NaN);
      },
    });
  gauge('easel_cluster_clock_offset_seconds', "Redis's clock minus this node's own clock (estimated)", (c) =>
    c.offsetMs === null ? null : c.offsetMs / 1000,
  );
  gauge('easel_cluster_clock_error_seconds', 'How far the offset estimate may be off', (c) =>
    c.errorMs === null ? null : c.errorMs / 1000,
  );
  gauge(
    'easel_cluster_clock_correction_seconds',
    "Added to this node's own clock for every time it gives out",
    (c) => c.correctionMs / 1000,
  );
  gauge('easel_cluster_clock_synced', "1 while this node's correction can be vouched for to within 50 ms (clock state ok or far)", (c) =>
    c.state === 'unsynced' ? 0 : 1,
  );
}
