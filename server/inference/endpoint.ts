/**
 * One inference endpoint ("host:port"): its gRPC channel, its health as the service reports
 * it over grpc.health.v1 Watch, and reconnection with our own backoff when it is down.
 *
 * Each reconnection attempt opens a fresh channel with a local subchannel pool. grpc-js keeps
 * its own hidden reconnect backoff per subchannel (growing to two minutes) and fails calls
 * at once while it waits; a fresh channel connects immediately, so the schedule in
 * backoff.ts alone decides when the next attempt happens, and tests can drive it.
 */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from '../logger.js';
import type { Clock } from '../stream/clock.js';
import { createBackoff, type BackoffOptions } from './backoff.js';
import { grpcStatusName, plainDetails } from './grpc-errors.js';
import { IMAGE_GENERATOR_SERVICE, SERVING_STATUS, type HealthClient, type ImageGeneratorClient, type InferenceProtos } from './proto.js';

export type EndpointState = 'connecting' | 'up' | 'down';

/** What /readyz and the operator API show for one endpoint. */
export interface EndpointStatus {
  address: string;
  state: EndpointState;
  /** Plain words: "serving", "cannot connect: ECONNREFUSED ...", "reports NOT_SERVING ...". */
  reason: string;
  /** Epoch ms of the last change of state. */
  since: number;
  /** Calls running on it now. */
  inFlight: number;
  /** Calls started on it since the client was created. */
  calls: number;
  /** Reconnection attempts since it was last up. */
  retries: number;
}

export interface EndpointOptions {
  address: string;
  protos: InferenceProtos;
  logger: Logger;
  clock: Clock;
  random: () => number;
  backoff?: BackoffOptions;
  /** Each Watch call carries this deadline and is renewed when it passes, so a silent host is noticed. */
  healthRenewMs: number;
  onChange: () => void;
}

/** A channel and the two stubs on it; retired channels close once their last call ends. */
export interface Connection {
  readonly generator: ImageGeneratorClient;
  readonly health: HealthClient;
}

interface LiveConnection extends Connection {
  inFlight: number;
  retired: boolean;
}

export interface Endpoint {
  readonly address: string;
  status(): EndpointStatus;
  /** Counts a call as running (for least-busy picking); call `end` exactly once when it settles. */
  begin(): { connection: Connection; end: () => void };
  /** A call failed in a way that says the endpoint cannot take calls: mark it down and reconnect. */
  reportDown(reason: string): void;
  close(): void;
}

const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.use_local_subchannel_pool': 1,
  // Generated images are a few hundred KiB; leave room for large sizes and PNG.
  'grpc.max_receive_message_length': 64 * 1024 * 1024,
};

export function createEndpoint(options: EndpointOptions): Endpoint {
  const { address, protos, clock, healthRenewMs, onChange } = options;
  const log = options.logger.child({ endpoint: address });
  const backoff = createBackoff(options.backoff, options.random);
  const status: EndpointStatus = {
    address,
    state: 'connecting',
    reason: 'connecting',
    since: clock.now(),
    inFlight: 0,
    calls: 0,
    retries: 0,
  };
  let connection: LiveConnection | undefined;
  let watchToken = 0;
  let watchCall: grpc.ClientReadableStream<unknown> | undefined;
  let retryHandle: unknown;
  let closed = false;

  function setState(state: EndpointState, reason: string): void {
    const changed = state !== status.state;
    if (!changed && reason === status.reason) return;
    if (changed) status.since = clock.now();
    if (changed && state === 'down') log.warn({ reason }, 'Inference endpoint is down');
    if (changed && state === 'up') log.info({ reason }, 'Inference endpoint is up');
    status.state = state;
    status.reason = reason;
    if (state === 'up') {
      status.retries = 0;
      backoff.reset();
    }
    onChange();
  }

  function connect(): void {
    if (connection) retire(connection);
    const generator = new protos.imageGenerator(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
    const health = new protos.health(address, grpc.credentials.createInsecure(), {
      channelOverride: generator.getChannel(),
    });
    connection = { generator, health, inFlight: 0, retired: false };
    watch();
  }

  function retire(old: LiveConnection): void {
    old.retired = true;
    if (old.inFlight === 0) old.generator.close();
  }

  function watch(): void {
    if (!connection) return;
    const token = ++watchToken;
    const call = connection.health.watch(
      { service: IMAGE_GENERATOR_SERVICE },
      // gRPC compares deadlines with the real time, so they are wall-clock whatever the clock says.
      { deadline: Date.now() + healthRenewMs },
    );
    watchCall = call;
    call.on('data', (message: { status: number }) => {
      if (token === watchToken) onHealth(message.status);
    });
    // 'status' always follows 'error'; this listener only keeps a failed call from crashing the process.
    call.on('error', () => {});
    call.on('status', (result: grpc.StatusObject) => {
      if (token === watchToken && !closed) onWatchEnded(result);
    });
  }

  function onHealth(serving: number): void {
    switch (serving) {
      case SERVING_STATUS.SERVING:
        setState('up', 'serving');
        return;
      case SERVING_STATUS.NOT_SERVING:
        setState('down', 'reports NOT_SERVING (model loading, or the service is draining)');
        return;
      case SERVING_STATUS.SERVICE_UNKNOWN:
        setState('down', `does not report health for "${IMAGE_GENERATOR_SERVICE}"`);
        return;
      default:
        setState('down', 'reports health status UNKNOWN');
    }
  }

  function onWatchEnded(result: grpc.StatusObject): void {
    watchCall = undefined;
    const said = plainDetails(result.details) || grpcStatusName(result.code);
    switch (result.code) {
      case grpc.status.DEADLINE_EXCEEDED:
        // A live service answers the Watch at once; a renewal deadline passing while it is up
        // is routine. While it never answered, the host is silent: treat it as down.
        if (status.state === 'up') return watch();
        setState('down', `did not answer its health check within ${healthRenewMs} ms`);
        return scheduleRetry();
      case grpc.status.UNIMPLEMENTED:
        // Reaching the service proves the connection; calls that fail will mark it down.
        setState('up', 'serving (the service has no grpc.health.v1; assumed up while its calls succeed)');
        return;
      case grpc.status.OK:
        setState('down', 'ended its health watch (it may be shutting down)');
        return scheduleRetry();
      default:
        setState('down', `cannot connect: ${said}`);
        return scheduleRetry();
    }
  }

  function scheduleRetry(): void {
    if (closed || retryHandle !== undefined) return;
    const ms = backoff.next();
    status.retries = backoff.attempts;
    log.debug({ delayMs: ms, attempt: backoff.attempts }, 'Reconnecting to inference endpoint after backoff');
    retryHandle = clock.setTimeout(() => {
      retryHandle = undefined;
      if (!closed) connect();
    }, ms);
  }

  connect();

  return {
    address,
    status: () => ({ ...status }),
    begin() {
      if (!connection) throw new Error(`Endpoint "${address}" is closed`);
      const used = connection;
      used.inFlight += 1;
      status.inFlight += 1;
      status.calls += 1;
      let ended = false;
      return {
        connection: used,
        end() {
          if (ended) return;
          ended = true;
          used.inFlight -= 1;
          status.inFlight -= 1;
          if (used.retired && used.inFlight === 0) used.generator.close();
        },
      };
    },
    reportDown(reason) {
      if (closed) return;
      setState('down', reason);
      watchToken += 1;
      watchCall?.cancel();
      watchCall = undefined;
      scheduleRetry();
    },
    close() {
      if (closed) return;
      closed = true;
      watchToken += 1;
      watchCall?.cancel();
      if (retryHandle !== undefined) clock.clearTimeout(retryHandle);
      retryHandle = undefined;
      if (connection) retire(connection);
      connection = undefined;
    },
  };
}
