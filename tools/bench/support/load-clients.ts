/**
 * The load-client processes of the fan-out benchmarks (tools/bench/fanout-client.ts): started
 * with an IPC channel and 'advanced' serialization, then driven by request/reply messages.
 */
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { PROJECT_ROOT, spawnTs } from './children.js';
import type { FromClient, ToClient } from './fanout-protocol.js';

/** Sends `message` (or nothing) and resolves with the first reply of `type`. */
export function request<T extends FromClient['type']>(
  child: ChildProcess,
  message: ToClient | null,
  type: T,
  timeoutMs: number,
): Promise<Extract<FromClient, { type: T }>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`A load client sent no "${type}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (m: FromClient) => {
      if (m.type !== type) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(m as Extract<FromClient, { type: T }>);
    };
    child.on('message', onMessage);
    if (message) child.send(message);
  });
}

/** One load-client process, once it has said it is ready. */
export async function startLoadClient(): Promise<ChildProcess> {
  const child = spawnTs(path.join(PROJECT_ROOT, 'tools/bench/fanout-client.ts'), [], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    serialization: 'advanced',
  });
  await request(child, null, 'ready', 60_000);
  return child;
}
