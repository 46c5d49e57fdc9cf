/**
 * What moving fan-out into uWS topics changes, measured without the rest of the server: one uWS
 * app with two sets of N sockets, each read by a load-client process (`ws`). Every "slot" one
 * message goes to set A through a JavaScript loop (`getBufferedAmount()`, then `send()` per
 * socket: Easel before topics) and to set B through one `app.publish()` after the buffer check
 * the channel does (Easel with topics); the order alternates. Per slot it records how long the
 * server's event loop was blocked by each fan-out (wall and CPU), and the clients report the
 * spread (last copy − first copy). Set B's sockets subscribe, so uWS sends to them through its
 * copying path (the no-copy write of a large message is for non-subscribers only), which the
 * RSS figures show. A measurement, not a test: a shared box's neighbours move it; both sets share
 * the same conditions slot by slot.
 *
 *   npx tsx tools/bench/publish-vs-send.ts [--sockets 1000] [--bytes 31744] [--slots 40] [--workers 2]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import uWS from 'uWebSockets.js';
import { PROJECT_ROOT, spawnTs, stopChild } from './support/children.js';
import { machineInfo, machineLine } from './support/machine.js';
import { sleep } from './support/main-module.js';
import { summarize, type Summary } from './support/stats.js';

const { values } = parseArgs({
  options: {
    sockets: { type: 'string', default: '1000' },
    bytes: { type: 'string', default: String(31 * 1024) },
    slots: { type: 'string', default: '40' },
    workers: { type: 'string', default: '2' },
    out: { type: 'string' },
  },
});
const sockets = Number(values.sockets);
const bytes = Number(values.bytes);
const slots = Number(values.slots);
const workers = Number(values.workers);
if (![sockets, bytes, slots, workers].every((v) => Number.isInteger(v) && v > 0)) {
  throw new Error('--sockets, --bytes, --slots and --workers take positive whole numbers');
}

type Ws = uWS.WebSocket<{ set: number }>;
const sets: Ws[][] = [[], []];
const rssMb = () => process.memoryUsage().rss / 2 ** 20;

const app = uWS.App();
app.ws<{ set: number }>('/:set', {
  compression: uWS.DISABLED,
  maxBackpressure: 8 * 1024 * 1024,
  closeOnBackpressureLimit: false,
  upgrade(res, req, context) {
    const set = req.getParameter(0) === 'b' ? 1 : 0;
    res.upgrade(
      { set },
      req.getHeader('sec-websocket-key'),
      req.getHeader('sec-websocket-protocol'),
      req.getHeader('sec-websocket-extensions'),
      context,
    );
  },
  open(ws) {
    const { set } = ws.getUserData();
    sets[set]!.push(ws);
    if (set === 1) ws.subscribe('frames');
  },
});

const port = await new Promise<number>((resolve, reject) =>
  app.listen('127.0.0.1', 0, (token) => (token ? resolve(uWS.us_socket_local_port(token)) : reject(new Error('listen failed')))),
);

const clients = Array.from({ length: workers }, (_, w) => {
  const share = Math.floor(sockets / workers) + (w < sockets % workers ? 1 : 0);
  const set = w % 2 === 0 ? 'a' : 'b';
  return {
    set,
    child: spawnTs(path.join(PROJECT_ROOT, 'tools/bench/publish-client.ts'), [`ws://127.0.0.1:${port}/${set}`, String(share * 2)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    }),
  };
});
// Each worker opens its share of one set… twice the share, so both sets get N in all with workers even.
await Promise.all(clients.map(({ child }) => new Promise((resolve) => child.once('message', resolve))));
process.stderr.write(`open: set A ${sets[0]!.length}, set B ${sets[1]!.length} sockets\n`);
const rssOpen = rssMb();

const frame = (set: number, index: number) => {
  const m = Buffer.alloc(bytes, 7);
  m[0] = set;
  m.writeUInt32BE(index, 1);
  return m;
};
const blocked: Array<{ wall: number[]; cpu: number[]; skipped: number }> = [
  { wall: [], cpu: [], skipped: 0 },
  { wall: [], cpu: [], skipped: 0 },
];
/** Set B's buffer check alone: what stays in JavaScript per display with topics. */
const checkWall: number[] = [];
const fanOut = [
  (m: Buffer) => {
    for (const ws of sets[0]!) {
      if (ws.getBufferedAmount() > 0) blocked[0]!.skipped++;
      else ws.send(m, true);
    }
  },
  (m: Buffer) => {
    const t0 = performance.now();
    for (const ws of sets[1]!) {
      if (ws.getBufferedAmount() > 0) {
        blocked[1]!.skipped++;
        ws.unsubscribe('frames');
      }
    }
    checkWall.push(performance.now() - t0);
    app.publish('frames', m, true);
  },
];
// A few slots of each set alone first: what each way leaves allocated shows in RSS.
const WARM = 4;
const rssAt: number[] = [];
for (let slot = 0; slot < slots + 2 * WARM; slot++) {
  if (slot === WARM || slot === 2 * WARM) rssAt.push(rssMb());
  const order = slot < WARM ? [0] : slot < 2 * WARM ? [1] : slot % 2 === 0 ? [0, 1] : [1, 0];
  for (const set of order) {
    const m = frame(set, slot);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    fanOut[set]!(m);
    blocked[set]!.wall.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    blocked[set]!.cpu.push((cpu.user + cpu.system) / 1000);
  }
  await sleep(250);
}
await sleep(500);
const rssEnd = rssMb();

const reports = await Promise.all(
  clients.map(
    ({ child }) =>
      new Promise<Array<[string, [number, number, number]]>>((resolve) => {
        child.once('message', (m: { frames: Array<[string, [number, number, number]]> }) => resolve(m.frames));
        child.send({ type: 'report' });
      }),
  ),
);
for (const { child } of clients) {
  child.send({ type: 'close' });
  await stopChild(child);
}
// Arrivals are epoch ms on the one machine's clock, so workers' first and last copies combine.
const spread: number[][] = [[], []];
const copies: number[] = [0, 0];
const byFrame = new Map<string, [number, number]>();
for (const frames of reports)
  for (const [id, [first, last, n]] of frames) {
    const seen = byFrame.get(id);
    byFrame.set(id, seen ? [Math.min(seen[0], first), Math.max(seen[1], last)] : [first, last]);
    copies[Number(id.split('|')[0])]! += n;
  }
for (const [id, [first, last]] of byFrame) spread[Number(id.split('|')[0])]!.push(last - first);

const round = (s: Summary) => ({ p50: +s.p50.toFixed(2), p95: +s.p95.toFixed(2), max: +s.max.toFixed(2) });
const result = {
  machine: machineInfo(),
  sockets,
  bytes,
  slots,
  rssMb: {
    open: +rssOpen.toFixed(1),
    afterSendLoopAlone: +rssAt[0]!.toFixed(1),
    afterPublishAlone: +rssAt[1]!.toFixed(1),
    end: +rssEnd.toFixed(1),
  },
  sets: ['A: JS send loop', 'B: app.publish'].map((name, i) => ({
    name,
    copiesReceived: copies[i],
    skipped: blocked[i]!.skipped,
    blockedWallMs: round(summarize(blocked[i]!.wall)),
    blockedCpuMs: round(summarize(blocked[i]!.cpu)),
    spreadMs: round(summarize(spread[i]!)),
    ...(i === 1 ? { bufferCheckWallMs: round(summarize(checkWall)) } : {}),
  })),
};
const text = JSON.stringify(result, null, 2);
process.stdout.write(`${machineLine(result.machine)}\n${text}\n`);
if (values.out) {
  await mkdir(path.dirname(values.out), { recursive: true });
  await writeFile(values.out, text);
}
process.exit(0);
