/**
 * A grpc.health.v1.Health service (proto/grpc/health/v1/health.proto) for the dev inference
 * service, served from the vendored proto rather than the grpc-health-check package: Check and
 * Watch are all there is to it.
 */
import * as grpc from '@grpc/grpc-js';
import { SERVING_STATUS, type HealthCheckResponseMessage, type HealthHandlers } from '../../server/inference/proto.js';

type ServingStatus = HealthCheckResponseMessage['status'];
type WatchCall = grpc.ServerWritableStream<{ service: string }, { status: ServingStatus }>;

export interface HealthService {
  handlers: HealthHandlers;
  /** Sets a service's status ("" is the whole server) and tells every watcher of it. */
  setStatus(service: string, status: ServingStatus): void;
  /**
   * Ends every Watch call. A server shutting down gracefully waits for all calls to end, and
   * a Watch never ends by itself.
   */
  endWatches(): void;
}

export function createHealthService(): HealthService {
  const statuses = new Map<string, ServingStatus>();
  const watchers = new Map<string, Set<WatchCall>>();

  const handlers: HealthHandlers = {
    Check(call, callback) {
      const status = statuses.get(call.request.service);
      if (status === undefined) {
        callback({ code: grpc.status.NOT_FOUND, details: `Unknown service "${call.request.service}"` });
        return;
      }
      callback(null, { status });
    },
    Watch(call) {
      const { service } = call.request;
      const set = watchers.get(service) ?? new Set<WatchCall>();
      watchers.set(service, set);
      set.add(call);
      call.on('cancelled', () => set.delete(call));
      call.write({ status: statuses.get(service) ?? SERVING_STATUS.SERVICE_UNKNOWN });
    },
  };

  return {
    handlers,
    setStatus(service, status) {
      if (statuses.get(service) === status) return;
      statuses.set(service, status);
      for (const call of watchers.get(service) ?? []) call.write({ status });
    },
    endWatches() {
      for (const set of watchers.values()) {
        for (const call of set) call.end();
        set.clear();
      }
    },
  };
}
