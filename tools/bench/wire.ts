/**
 * Wire benchmark: bytes a display receives per frame in the binary protocol (WebP by default)
 * against the seed's JSON mode (`?format=json`: base64 JPEG inside JSON), for the same canvas
 * and the same frames. A third display asks for binary JPEG (`?accept=jpeg`), which separates
 * what the codec saves from what dropping base64 saves. Frames are matched by image id across
 * the three displays, so each figure compares the same pictures.
 *
 *   npx tsx tools/bench/wire.ts [--seconds 12] [--out-dir bench/results]
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { decodeFrameMessage } from '../../protocol/wire.js';
import { PROJECT_ROOT } from './support/children.js';
import { machineInfo, machineLine, type MachineInfo } from './support/machine.js';
import { isMain, sleep } from './support/main-module.js';
import { startServerProcess } from './support/server-process.js';

type Mode = 'binaryWebp' | 'binaryJpeg' | 'jsonJpeg';
const QUERIES: Record<Mode, string> = { binaryWebp: 'format=binary', binaryJpeg: 'format=binary&accept=jpeg', jsonJpeg: 'format=json' };

interface Sample {
  /** Whole WebSocket message payload, bytes. */
  message: number;
  /** The encoded image alone (binary), or the decoded base64 (JSON), bytes. */
  image: number;
  mime: string;
}

export interface WireResult {
  machine: MachineInfo;
  seconds: number;
  /** Distinct images seen by all three displays. */
  frames: number;
  perFrame: Record<Mode, { messageBytes: number; imageBytes: number; mime: string }>;
  /** JSON mode's message bytes over binary WebP's: how many times more the seed format sends. */
  jsonOverBinaryWebp: number;
  /** Binary WebP over binary JPEG images: what the codec alone saves. */
  webpOverJpegImage: number;
  /** JSON message over binary JPEG message: what base64 + JSON alone cost. */
  base64Overhead: number;
  /** MB/s the server sends to 2,000 displays at 4 FPS in each mode. */
  megabytesPerSecondAt2000Displays: Record<Mode, number>;
}

export async function runWire(options: { seconds: number; log: (line: string) => void }): Promise<WireResult> {
  const server = await startServerProcess({ canvases: [{ slug: 'wire', source: { type: 'folder', path: 'assets', order: 'name' } }] });
  const seen: Record<Mode, Map<string, Sample>> = { binaryWebp: new Map(), binaryJpeg: new Map(), jsonJpeg: new Map() };
  const sockets: WebSocket[] = [];
  try {
    await server.waitForPublished(['wire'], 13);
    for (const mode of Object.keys(QUERIES) as Mode[]) {
      const ws = new WebSocket(server.wsUrl('wire', QUERIES[mode]), { perMessageDeflate: false });
      ws.on('message', (data: Buffer, isBinary) => {
        if (mode === 'jsonJpeg') {
          const msg = JSON.parse(data.toString('utf8')) as { image?: string; image_id?: string };
          if (!msg.image || !msg.image_id) return;
          seen[mode].set(msg.image_id, { message: data.length, image: Buffer.byteLength(msg.image, 'base64'), mime: 'image/jpeg' });
        } else if (isBinary) {
          const { header, image } = decodeFrameMessage(data);
          seen[mode].set(header.imageId, { message: data.length, image: image.length, mime: header.mime });
        }
      });
      sockets.push(ws);
    }
    await Promise.all(sockets.map((ws) => new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject))));
    options.log(`Wire: three displays on one canvas for ${options.seconds} s`);
    await sleep(options.seconds * 1000);
  } finally {
    for (const ws of sockets) ws.terminate();
    await server.stop();
  }

  const ids = [...seen.binaryWebp.keys()].filter((id) => seen.binaryJpeg.has(id) && seen.jsonJpeg.has(id));
  if (ids.length === 0) throw new Error('No frame reached all three displays: is the server streaming?');
  const mean = (mode: Mode, key: 'message' | 'image') => ids.reduce((s, id) => s + seen[mode].get(id)![key], 0) / ids.length;
  const perFrame = Object.fromEntries(
    (Object.keys(QUERIES) as Mode[]).map((m) => [
      m,
      { messageBytes: Math.round(mean(m, 'message')), imageBytes: Math.round(mean(m, 'image')), mime: seen[m].get(ids[0]!)!.mime },
    ]),
  ) as WireResult['perFrame'];
  const r2 = (v: number) => Math.round(v * 100) / 100;
  return {
    machine: machineInfo(),
    seconds: options.seconds,
    frames: ids.length,
    perFrame,
    jsonOverBinaryWebp: r2(perFrame.jsonJpeg.messageBytes / perFrame.binaryWebp.messageBytes),
    webpOverJpegImage: r2(perFrame.binaryWebp.imageBytes / perFrame.binaryJpeg.imageBytes),
    base64Overhead: r2(perFrame.jsonJpeg.messageBytes / perFrame.binaryJpeg.messageBytes),
    megabytesPerSecondAt2000Displays: Object.fromEntries(
      (Object.keys(QUERIES) as Mode[]).map((m) => [m, Math.round((perFrame[m].messageBytes * 4 * 2000) / 1e5) / 10]),
    ) as Record<Mode, number>,
  };
}

export function wireMarkdown(r: WireResult): string {
  const kib = (b: number) => (b / 1024).toFixed(1);
  const row = (label: string, m: Mode) =>
    `| ${label} | ${r.perFrame[m].mime} | ${kib(r.perFrame[m].imageBytes)} | ${kib(r.perFrame[m].messageBytes)} | ${r.megabytesPerSecondAt2000Displays[m]} |`;
  return [
    '# Wire: bytes per frame',
    '',
    `Machine: ${machineLine(r.machine)}`,
    `Date: ${r.machine.date}`,
    '',
    `One canvas (1024² max, the 12 bundled images), three displays, ${r.frames} distinct frames seen by all three, means per frame.`,
    '',
    '| Mode | Image | Image KiB | Message KiB | MB/s to 2,000 displays at 4 FPS |',
    '|---|---|--:|--:|--:|',
    row('binary (default)', 'binaryWebp'),
    row('binary, `accept=jpeg`', 'binaryJpeg'),
    row('JSON (`format=json`, seed)', 'jsonJpeg'),
    '',
    `The seed's JSON mode sends ${r.jsonOverBinaryWebp}× the bytes of binary WebP: WebP images are ${r.webpOverJpegImage}× the JPEG's size, ` +
      `and base64 inside JSON costs ${r.base64Overhead}× the binary JPEG message.`,
    '',
  ].join('\n');
}

if (isMain(import.meta.url)) {
  const { values } = parseArgs({
    options: { seconds: { type: 'string', default: '12' }, 'out-dir': { type: 'string', default: 'bench/results' } },
  });
  const result = await runWire({ seconds: Number(values.seconds), log: (l) => process.stderr.write(`${l}\n`) });
  const dir = path.resolve(PROJECT_ROOT, values['out-dir']);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'wire.json'), `${JSON.stringify(result, null, 2)}\n`);
  await writeFile(path.join(dir, 'wire.md'), wireMarkdown(result));
  process.stdout.write(wireMarkdown(result));
}
