/**
 * The display wire protocol (docs/protocol.md): every message a display and the server exchange
 * over `/ws/<slug>`, defined once and imported by the server, the display page and the tools.
 * Browser-safe: no Node Buffer, only DataView, TextEncoder and TextDecoder.
 */

/** The newest binary protocol; `hello.protocol` says which one a connection speaks. */
export const PROTOCOL_VERSION = 2;

/** What a connection gets: binary frames (v1 or v2) or the seed's JSON frames. */
export type WireFormat = { mode: 'binary'; protocol: 1 | 2 } | { mode: 'json' };

/** `Sec-WebSocket-Protocol` values the server accepts, in the server's order of preference. */
export const SUBPROTOCOLS: Readonly<Record<string, WireFormat>> = {
  'easel.v2': { mode: 'binary', protocol: 2 },
  'easel.v1': { mode: 'binary', protocol: 1 },
};

/** The subprotocol Easel's own pages ask for. */
export const EASEL_SUBPROTOCOL = 'easel.v2';

export interface TilePosition {
  /** 1-based, left to right. */
  column: number;
  /** 1-based, top to bottom. */
  row: number;
}

/** A tiled canvas's grid (canvases[].tiles): told to a display that joins as a tile. */
export interface TileGrid {
  columns: number;
  rows: number;
  /** Hidden gap between neighbouring screens, in screen pixels. */
  bezelPx: number;
  tileWidth: number;
  tileHeight: number;
}

export interface FrameHeader {
  type: 'frame';
  imageId: string;
  /** Per canvas, increasing; every tile of a frame shares it. */
  seq: number;
  /**
   * ISO-8601: when the frame is meant to be on screen, i.e. `presentAt`, or its slot time on a
   * canvas that does not sync.
   */
  timestamp: string;
  /** ISO-8601: when the image was loaded or generated (v2). */
  madeAt?: string;
  /** Epoch ms on the server's clock at which every screen of the canvas shows it (v2, synced canvases). */
  presentAt?: number;
  mime: string;
  width: number;
  height: number;
  source: string;
  prompt?: string;
  /** Which tile of a tiled canvas this image is. */
  tile?: TilePosition;
}

export type TransitionKind = 'cut' | 'crossfade';

/** The first message of a binary-mode connection. */
export interface HelloMessage {
  type: 'hello';
  protocol: number;
  canvas: string;
  fps: number;
  serverTime: number;
  transition?: TransitionKind;
  transitionMs?: number;
  /** v2: whether frames carry `presentAt` (false: show each on arrival). */
  sync?: boolean;
  /** v2: how far ahead of its slot a frame is meant to be shown, ms. */
  leadMs?: number;
  tile?: TilePosition;
  /** With `tile`: the wall's grid, so a preview of the whole wall can lay the other tiles out. */
  grid?: TileGrid;
}

export interface PongMessage {
  type: 'pong';
  t0: number;
  serverTime: number;
}

export type ServerText = HelloMessage | PongMessage;

/** Display → server: asks for a pong. `offset` is the v1 clock report (display − server, ms). */
export interface PingMessage {
  type: 'ping';
  t0: number;
  offset?: number;
}

export interface ViewportMessage {
  type: 'viewport';
  w: number;
  h: number;
  dpr: number;
}

/** Display → server (v2): how well this screen keeps time, after each clock sync and now and then. */
export interface ReportMessage {
  type: 'report';
  /** Display wall clock minus server clock, ms. */
  offsetMs: number;
  /** Smallest recent round trip, ms. */
  rttMs: number;
  /** How far the display's idea of the server clock may be off, ms. */
  errorMs: number;
  /** Frames shown since the page connected, and of those, shown after their `presentAt`. */
  shown: number;
  late: number;
}

export type ClientMessage = PingMessage | ViewportMessage | ReportMessage;

/** The seed's JSON frame: exactly these keys in this order. */
export interface SeedFrameMessage {
  timestamp: string;
  image: string;
  image_id: string;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();

/** Binary frame: 4-byte big-endian header length, the UTF-8 JSON header, then the image bytes. */
export function encodeFrameMessage(header: FrameHeader, image: Uint8Array): Uint8Array {
  const json = utf8Encoder.encode(JSON.stringify(header));
  const out = new Uint8Array(4 + json.length + image.length);
  new DataView(out.buffer).setUint32(0, json.length, false);
  out.set(json, 4);
  out.set(image, 4 + json.length);
  return out;
}

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
  const header = JSON.parse(utf8Decoder.decode(message.subarray(4, 4 + length))) as FrameHeader;
  if (header?.type !== 'frame') throw new TypeError(`Expected a header of type "frame" but received "${String(header?.type)}"`);
  return { header, image: message.subarray(4 + length) };
}

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

function readJsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const msg: unknown = JSON.parse(text);
    return typeof msg === 'object' && msg !== null && !Array.isArray(msg) ? (msg as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function readTile(v: unknown): TilePosition | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { column, row } = v as Record<string, unknown>;
  return Number.isInteger(column) && Number.isInteger(row) ? { column: column as number, row: row as number } : undefined;
}

function readGrid(v: unknown): TileGrid | undefined {
  if (typeof v !== 'object' || v === null) return undefined;
  const { columns, rows, bezelPx, tileWidth, tileHeight } = v as Record<string, unknown>;
  const whole = (n: unknown, min: number): n is number => Number.isInteger(n) && (n as number) >= min && (n as number) <= 100_000;
  return whole(columns, 1) && whole(rows, 1) && whole(bezelPx, 0) && whole(tileWidth, 1) && whole(tileHeight, 1)
    ? { columns, rows, bezelPx, tileWidth, tileHeight }
    : undefined;
}

/** Reads a text message from the server; undefined for anything that is not a known shape. */
export function parseServerText(text: string): ServerText | undefined {
  const m = readJsonObject(text);
  if (!m) return undefined;
  if (m.type === 'hello' && typeof m.canvas === 'string' && finite(m.fps) && finite(m.serverTime)) {
    const hello: HelloMessage = { type: 'hello', protocol: Number(m.protocol), canvas: m.canvas, fps: m.fps, serverTime: m.serverTime };
    if (m.transition === 'cut' || m.transition === 'crossfade') hello.transition = m.transition;
    if (finite(m.transitionMs) && m.transitionMs >= 0) hello.transitionMs = m.transitionMs;
    if (typeof m.sync === 'boolean') hello.sync = m.sync;
    if (finite(m.leadMs) && m.leadMs >= 0) hello.leadMs = m.leadMs;
    const tile = readTile(m.tile);
    if (tile) hello.tile = tile;
    const grid = readGrid(m.grid);
    if (grid) hello.grid = grid;
    return hello;
  }
  if (m.type === 'pong' && finite(m.t0) && finite(m.serverTime)) return { type: 'pong', t0: m.t0, serverTime: m.serverTime };
  return undefined;
}

/**
 * Reads a text message from a display; undefined for anything outside the protocol. A viewport's
 * numbers are only checked to be finite here: the server decides what size it serves.
 */
export function parseClientText(text: string): ClientMessage | undefined {
  const m = readJsonObject(text);
  if (!m) return undefined;
  if (m.type === 'ping' && finite(m.t0))
    return finite(m.offset) ? { type: 'ping', t0: m.t0, offset: m.offset } : { type: 'ping', t0: m.t0 };
  if (m.type === 'viewport' && finite(m.w) && finite(m.h)) return { type: 'viewport', w: m.w, h: m.h, dpr: finite(m.dpr) ? m.dpr : 1 };
  if (
    m.type === 'report' &&
    finite(m.offsetMs) &&
    finite(m.rttMs) &&
    m.rttMs >= 0 &&
    finite(m.errorMs) &&
    m.errorMs >= 0 &&
    Number.isSafeInteger(m.shown) &&
    Number.isSafeInteger(m.late) &&
    (m.shown as number) >= 0 &&
    (m.late as number) >= 0
  ) {
    return { type: 'report', offsetMs: m.offsetMs, rttMs: m.rttMs, errorMs: m.errorMs, shown: m.shown as number, late: m.late as number };
  }
  return undefined;
}
