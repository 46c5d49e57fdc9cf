import type client from 'prom-client';
import { mirroredCounter, mirroredGauge } from '../mirrored-metrics.js';
import type { ClusterStats } from './cluster.js';
import type { RelayStats } from './relay.js';

export interface ClusterMetricsSources {
  cluster: () => ClusterStats;
  relay: () => Readonly<RelayStats>;
}

/**
 * Per-node cluster metrics (`easel_cluster_*`), registered only in cluster mode: a node alone
 * has none of these series. Read at scrape time from what the cluster counts anyway.
 */
export function registerClusterMetrics(register: client.Registry, sources: ClusterMetricsSources): void {
  const gauge = (name: string, help: string, read: () => number) => mirroredGauge(register, name, help, read);
  const counter = (name: string, help: string, read: () => Array<[Record<string, string>, number]>, labelNames: string[] = []) =>
    mirroredCounter(register, name, help, read, labelNames);
  const stats = sources.cluster;

  gauge('easel_cluster_redis_up', '1 while this node is connected to Redis, 0 while Redis is unreachable (or not yet reached)', () =>
    stats().redisUp ? 1 : 0,
  );
  gauge('easel_cluster_canvases_owned', 'Declared canvases this node produces now, islands included', () => stats().owned);
  gauge(
    'easel_cluster_canvases_island',
    'Canvases this node produces for its own displays only because their lease ran out while Redis was unreachable',
    () => stats().islands,
  );
  gauge(
    'easel_cluster_nodes_live',
    'Live nodes this node counted at its last placement step, itself included (0 before it could)',
    () => stats().liveNodes,
  );
  counter('easel_cluster_lease_acquisitions_total', 'Canvas leases this node took', () => [[{}, stats().lease.acquired]]);
  counter(
    'easel_cluster_lease_losses_total',
    'Canvas leases this node lost, by reason (expired: not renewed in time; taken: Redis says another node holds it)',
    () => Object.entries(stats().lease.lost).map(([reason, n]): [Record<string, string>, number] => [{ reason }, n]),
    ['reason'],
  );
  counter('easel_cluster_lease_renew_failures_total', 'Lease renewals that got no answer from Redis', () => [
    [{}, stats().lease.renewFailed],
  ]);
  counter('easel_cluster_islands_total', 'Leases that ran out while Redis was unreachable (the canvas went on for local displays)', () => [
    [{}, stats().lease.islands],
  ]);
  counter(
    'easel_cluster_handovers_total',
    'Planned handovers (handover.ts) by result: given (heard or not), unheard, refused by Redis, adopted from a notice',
    () => {
      const h = stats().handover;
      return [
        [{ result: 'given' }, h.given],
        [{ result: 'unheard' }, h.unheard],
        [{ result: 'refused' }, h.refused],
        [{ result: 'adopted' }, h.adopted],
      ];
    },
    ['result'],
  );
  const ownerChanges = () => [...stats().ownerChanges];
  counter(
    'easel_cluster_owner_changes_total',
    'Times a canvas changed hands (its owner died or handed it over) while this node showed it',
    () => ownerChanges().map(([canvas, h]): [Record<string, string>, number] => [{ canvas }, h.count]),
    ['canvas'],
  );
  counter(
    'easel_cluster_owner_change_gap_seconds_total',
    'Screen time from the last frame before each change of hands to the first after, summed (one frame period when nothing was missed)',
    () => ownerChanges().map(([canvas, h]): [Record<string, string>, number] => [{ canvas }, h.totalMs / 1000]),
    ['canvas'],
  );
  gauge('easel_cluster_owner_change_gap_max_seconds', 'Longest such wait of any canvas since this node started', () =>
    Math.max(0, ...ownerChanges().map(([, h]) => h.maxMs / 1000)),
  );
  counter('easel_relay_bytes_received_total', 'Bytes of relayed frames this node received through Redis', () => [
    [{}, sources.relay().bytesReceived],
  ]);
}
