/**
 * The display side of protocol v1 (docs/protocol.md): the messages a display receives, and the
 * decoder for binary frames. A browser-safe twin of server/stream/frame-message.ts: no Node
 * Buffer, only DataView and TextDecoder. test/browser/display-units.test.ts checks that it
 * decodes exactly what the server's encoder writes, so the two cannot drift apart.
 */
import { readHelloTile, type HelloTile } from './wall-grid.js';

export interface FrameHeader {
  type: 'frame';
  imageId: string;
  /** Per canvas, increasing. */
  seq: number;
  /** ISO-8601: when the frame was made or loaded. */
  timestamp: string;
  mime: string;
  width: number;
  height: number;
  source: string;
  prompt?: string;
  /** Epoch ms (server clock) at which every display of the canvas should show it. */
  presentAt?: number;
}

export type TransitionKind = 'cut' | 'crossfade';

/** The first message of a binary-mode connection. `transition*` are optional per-canvas settings. */
export interface HelloMessage {
  type: 'hello';
  protocol: number;
  canvas: string;
  fps: number;
  serverTime: number;
  transition?: TransitionKind;
  transitionMs?: number;
  /** Only to a display that joined as a tile: its place and its wall's grid. */
  tile?: HelloTile;
}

export interface PongMessage {
  type: 'pong';
  t0: number;
  serverTime: number;
}

const utf8 = new TextDecoder();

/**
 * Splits one binary message into its header and image bytes. The image is a view into
 * `message`, not a copy.
 *
 * @example
 * const { header, image } = decodeFrameMessage(new Uint8Array(event.data));
 * const bitmap = await createImageBitmap(new Blob([image], { type: header.mime }));
 */
export function decodeFrameMessage(message: Uint8Array): { header: FrameHeader; image: Uint8Array } {
  if (message.length < 4) throw new RangeError(`Expected a frame message of at least 4 bytes but received ${message.length}`);
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const length = view.getUint32(0, false);
  if (4 + length > message.length) {
    throw new RangeError(`Expected a header of ${length} bytes but the message holds only ${message.length - 4}`);
  }
  const header = JSON.parse(utf8.decode(message.subarray(4, 4 + length))) as FrameHeader;
  if (header?.type !== 'frame') throw new TypeError(`Expected a header of type "frame" but received "${String(header?.type)}"`);
  return { header, image: message.subarray(4 + length) };
}

/** Reads a text message from the server; undefined for anything that is not a known shape. */
export function parseServerText(text: string): HelloMessage | PongMessage | undefined {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof msg !== 'object' || msg === null) return undefined;
  const m = msg as Record<string, unknown>;
  if (m.type === 'hello' && typeof m.canvas === 'string' && typeof m.fps === 'number' && typeof m.serverTime === 'number') {
    const hello: HelloMessage = { type: 'hello', protocol: Number(m.protocol), canvas: m.canvas, fps: m.fps, serverTime: m.serverTime };
    if (m.transition === 'cut' || m.transition === 'crossfade') hello.transition = m.transition;
    if (typeof m.transitionMs === 'number' && Number.isFinite(m.transitionMs) && m.transitionMs >= 0) hello.transitionMs = m.transitionMs;
    const tile = readHelloTile(m.tile);
    if (tile) hello.tile = tile;
    return hello;
  }
  if (m.type === 'pong' && typeof m.t0 === 'number' && typeof m.serverTime === 'number') {
    return { type: 'pong', t0: m.t0, serverTime: m.serverTime };
  }
  return undefined;
}
