import type { Cluster } from '../cluster/cluster.js';
import type { createApi } from './http.js';

/**
 * `GET /api/cluster`: the nodes of the cluster and how each is doing. Alone (no
 * cluster.redisUrl) it says so with an empty list, so tools need no second case. Node addresses
 * are dropped for other readers by the API's redaction, like client addresses; the Redis URL too.
 */
export function registerClusterRoute(
  api: ReturnType<typeof createApi>,
  cluster: Cluster | undefined,
  /** This node's counts of commands and events that crossed nodes (cluster-control.ts). */
  control?: () => Record<string, unknown>,
): void {
  api.route('get', '/api/cluster', async (req) => {
    if (!cluster) return { status: 200, json: { mode: 'alone', nodes: [] } };
    const view = { ...(await cluster.view()), ...control?.() };
    if (req.seesAll) return { status: 200, json: view };
    const { url: _url, ...redis } = view.redis;
    return { status: 200, json: { ...view, redis } };
  });
}
