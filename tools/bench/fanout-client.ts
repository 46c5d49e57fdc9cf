/**
 * A load-client process of the fan-out benchmark (forked by fanout-steps.ts, never run by
 * hand): opens its share of the displays with the `ws` package, records the arrival time,
 * seq and size of every frame, and hands the raw records back on request. Work per message is
 * kept to reading the header, so the client is not what limits the step.
 */
import { EASEL_SUBPROTOCOL } from '../../protocol/wire.js';
import WebSocket from 'ws';
import { epochNow } from './support/main-module.js';
import { presentAtOf } from './support/present-margin.js';
import type { DisplayPlan, DisplayRecord, FromClient, ToClient } from './support/fanout-protocol.js';

interface Probe {
  plan: DisplayPlan;
  socket: WebSocket;
  opened: boolean;
  seqs: number[];
  at: number[];
  bytes: number[];
  presentAt: number[];
  helloFps: number;
  closedByServer: number | null;
  error: string | null;
  closing: boolean;
}

const probes: Probe[] = [];
let badMessages = 0;

const send = (message: FromClient) => process.send!(message);

function openOne(
  plan: DisplayPlan,
  timeoutMs: number,
  tally: { refusals: Record<string, number>; errors: Record<string, number> },
): Promise<boolean> {
  const socket = new WebSocket(plan.url, [EASEL_SUBPROTOCOL], {
    perMessageDeflate: false,
    skipUTF8Validation: true,
    handshakeTimeout: timeoutMs,
  });
  const probe: Probe = {
    plan,
    socket,
    opened: false,
    seqs: [],
    at: [],
    bytes: [],
    presentAt: [],
    helloFps: 0,
    closedByServer: null,
    error: null,
    closing: false,
  };
  probes.push(probe);
  socket.on('message', (data: Buffer, isBinary) => {
    const at = epochNow();
    if (!isBinary) {
      try {
        const msg = JSON.parse(data.toString('utf8')) as { type?: string; fps?: number };
        if (msg.type === 'hello' && typeof msg.fps === 'number') probe.helloFps = msg.fps;
      } catch {
        badMessages++;
      }
      return;
    }
    // Only the header matters here: 4-byte big-endian length, then JSON with "seq".
    if (data.length < 4) return void badMessages++;
    const headerLength = data.readUInt32BE(0);
    const header = data.toString('latin1', 4, Math.min(data.length, 4 + headerLength));
    const m = /"seq":(\d+)/.exec(header);
    if (!m) return void badMessages++;
    probe.seqs.push(Number(m[1]));
    probe.presentAt.push(presentAtOf(header));
    probe.at.push(at);
    probe.bytes.push(data.length);
  });
  socket.on('close', (code) => {
    if (!probe.closing && probe.opened) probe.closedByServer = code;
  });
  return new Promise((resolve) => {
    socket.once('open', () => {
      probe.opened = true;
      resolve(true);
    });
    socket.once('unexpected-response', (_req, res) => {
      const key = `HTTP ${res.statusCode}`;
      tally.refusals[key] = (tally.refusals[key] ?? 0) + 1;
      probe.error = key;
      res.resume();
      socket.terminate();
      resolve(false);
    });
    socket.on('error', (err) => {
      const key = (err as NodeJS.ErrnoException).code ?? err.message.slice(0, 60);
      if (!probe.opened && probe.error === null) {
        tally.errors[key] = (tally.errors[key] ?? 0) + 1;
        resolve(false);
      }
      probe.error ??= key;
    });
  });
}

async function openAll(displays: DisplayPlan[], batch: number, timeoutMs: number) {
  const t0 = performance.now();
  const tally = { refusals: {} as Record<string, number>, errors: {} as Record<string, number> };
  let opened = 0;
  for (let i = 0; i < displays.length; i += batch) {
    const results = await Promise.all(displays.slice(i, i + batch).map((d) => openOne(d, timeoutMs, tally)));
    opened += results.filter(Boolean).length;
  }
  send({ type: 'opened', opened, failed: displays.length - opened, ...tally, ms: Math.round(performance.now() - t0) });
}

function report() {
  const displays: DisplayRecord[] = probes.map((p) => ({
    index: p.plan.index,
    canvas: p.plan.canvas,
    opened: p.opened,
    seqs: Int32Array.from(p.seqs),
    at: Float64Array.from(p.at),
    bytes: Int32Array.from(p.bytes),
    presentAt: Float64Array.from(p.presentAt),
    helloFps: p.helloFps,
    closedByServer: p.closedByServer,
    error: p.error,
  }));
  send({ type: 'report', displays, badMessages });
}

function closeAll() {
  for (const p of probes) {
    p.closing = true;
    p.socket.terminate();
  }
  process.disconnect?.();
  setTimeout(() => process.exit(0), 100).unref();
}

if (!process.send) {
  process.stderr.write('fanout-client.ts is started by fanout-steps.ts over IPC; run `npx tsx tools/bench/fanout-steps.ts` instead\n');
  process.exit(2);
}
process.on('message', (message: ToClient) => {
  switch (message.type) {
    case 'open':
      void openAll(message.displays, message.batch, message.openTimeoutMs);
      break;
    case 'report':
      report();
      break;
    case 'close':
      closeAll();
      break;
  }
});
// The parent is gone (crashed or killed): nothing to report to, so stop.
process.on('disconnect', () => process.exit(0));
process.on('SIGINT', () => undefined); // the parent decides when we stop; Ctrl-C reaches it too
send({ type: 'ready' });
