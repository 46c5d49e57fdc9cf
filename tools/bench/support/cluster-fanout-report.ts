/** The result of tools/bench/cluster-fanout.ts and its Markdown page (bench/results/cluster-fanout.md). */
import { machineLine, type MachineInfo } from './machine.js';
import type { Summary } from './stats.js';

export interface ClusterFanoutCase {
  nodes: number;
  displays: number;
  opened: number;
  canvases: number;
  windowSeconds: number;
  /** Frames per second each display received in the window. */
  fps: Summary;
  /** Frames (one seq of one canvas) that reached a display on every node in the window. */
  seqsCompared: number;
  /** Per frame: latest − earliest arrival over all its displays, on all nodes. */
  arrivalSpreadMs: Summary;
  /** Per frame: latest − earliest of each node's median arrival: node against node. */
  crossNodeSpreadMs: Summary;
  /** Per frame: largest − smallest presentAt its displays got. */
  presentAtSpreadMs: Summary;
  redis: {
    inBytesPerSecond: number;
    /** Less what the harness's own listener on the relay channels received. */
    outBytesPerSecond: number;
    inBytesPerSecondPerCanvas: number;
    outBytesPerSecondPerCanvas: number;
    /** Frames published on easel:frames:* per second, all canvases. */
    frameMessagesPerSecond: number;
    bytesPerFrameMessage: number | null;
    cpuPercentOfOneCore: number;
  };
  perNode: Array<{ id: string; owns: string[]; displays: number; cpuPercentOfOneCore: number; logWarnings: number; logErrors: number }>;
  clientsCpuPercentOfOneCore: number;
  /** All CPU on the box in the window, and what none of the measured processes used (other work, irq). */
  box: { busyPercentOfOneCore: number; otherPercentOfOneCore: number };
}

export interface ClusterFanoutResult {
  machine: MachineInfo;
  serverRuntime: string;
  options: {
    nodeCounts: number[];
    displays: number;
    canvases: number;
    windowSeconds: number;
    warmupSeconds: number;
    workers: number;
    leaseMs: number;
  };
  cases: ClusterFanoutCase[];
  /** Node count → why that case failed. */
  errors: Record<string, string>;
}

const kib = (bytes: number | null) => (bytes === null ? 'n/a' : (bytes / 1024).toFixed(1));

export function clusterFanoutMarkdown(r: ClusterFanoutResult): string {
  const row = (c: ClusterFanoutCase) =>
    `| ${c.nodes} | ${c.opened}/${c.displays} | ${c.fps.p50} / ${c.fps.min} | ${c.arrivalSpreadMs.p50} / ${c.arrivalSpreadMs.p95} / ${c.arrivalSpreadMs.max} | ` +
    `${c.nodes > 1 ? `${c.crossNodeSpreadMs.p50} / ${c.crossNodeSpreadMs.p95} / ${c.crossNodeSpreadMs.max}` : 'n/a'} | ${c.presentAtSpreadMs.max} | ` +
    `${kib(c.redis.inBytesPerSecondPerCanvas)} / ${kib(c.redis.outBytesPerSecondPerCanvas)} | ${kib(c.redis.bytesPerFrameMessage)} | ` +
    `${c.perNode.map((p) => `${p.cpuPercentOfOneCore}${p.owns.length ? ` (${p.owns.length})` : ''}`).join(', ')} | ${c.redis.cpuPercentOfOneCore} | ` +
    `${c.clientsCpuPercentOfOneCore} | ${c.box.otherPercentOfOneCore} |`;
  const others = r.cases.map((c) => c.box.otherPercentOfOneCore);
  return [
    '# Cluster fan-out: displays spread over 1, 2 and 3 nodes sharing one Redis',
    '',
    `Machine: ${machineLine(r.machine)} (load average ${r.machine.loadAverage.join(', ')} at the start)`,
    `Date: ${r.machine.date}; server: ${r.serverRuntime}; lease ${r.options.leaseMs} ms`,
    '',
    `Everything on one box: a real redis-server, the nodes (separate processes, loopback), and ${r.options.workers} load-client ` +
      `processes holding ${r.options.displays} displays (the \`ws\` package, protocol v2, no viewport hint) spread evenly over the ` +
      `nodes and ${r.options.canvases} canvases looping the bundled 1024×1024 images at 4 FPS. Each case has its own Redis and ` +
      `nodes; ${r.options.warmupSeconds} s warm-up, then a ${r.options.windowSeconds} s window.`,
    '',
    '| Nodes | Displays | FPS median / min | Arrival spread ms p50 / p95 / max | Cross-node ms p50 / p95 / max | presentAt spread max ms | ' +
      'Redis KiB/s per canvas in / out | KiB per frame message | CPU % per node (canvases owned) | Redis CPU % | Clients CPU % | Other CPU % |',
    '|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
    ...r.cases.map(row),
    '',
    '- **Arrival spread**: for each frame (seq) of a canvas, latest − earliest arrival over all its displays on all nodes. ' +
      "**Cross-node**: the same over each node's median arrival, so node against node without the spread inside one node. " +
      'Only frames that reached a display on every node count.',
    '- **presentAt spread**: largest − smallest `presentAt` the displays of one frame got; 0 means every node gave its displays ' +
      'the same instant (one clock here: the nodes share the machine).',
    "- **Redis bytes**: deltas of INFO `total_net_input_bytes` / `total_net_output_bytes` over the window (the harness's own " +
      'listener on the relay channels taken off), divided by the canvases: frames, leases, heartbeats, wants. Frames go in once ' +
      'and out once per other node. **KiB per frame message**: the size of each message on `easel:frames:<slug>`.',
    '- **CPU**: % of one core from /proc over the window; "other" is what the box spent beyond the nodes, Redis and the clients ' +
      '(other work on a shared box, interrupts).',
    '',
    `Noise: one run per case on a box of 2 cores shared with other workers' tests and a memory soak; other work took ` +
      `${others.join(', ')} % of a core during the windows, so the CPU and arrival figures carry that noise and were not ` +
      'repeated. Bytes through Redis do not depend on load.',
    ...(Object.keys(r.errors).length ? ['', ...Object.entries(r.errors).map(([n, e]) => `- ${n} node(s) failed: ${e}`)] : []),
    '',
  ].join('\n');
}
