import type { TilePosition } from '../../protocol/wire.js';
import type { EncodedImage } from '../stream/renderer.js';
import type { ImageFormat } from '../stream/rendition.js';

/**
 * A frame as it crosses nodes through Redis pub/sub: what a display on any node needs to show
 * it at the instant the owner chose (seq, presentAt), the lease epoch that fences it, and the
 * encoded renditions, so no node encodes them again.
 *
 * Binary: "EZR1", u32 big-endian header length, the header as JSON (UTF-8), then the
 * renditions' bytes one after the other in the header's order. The header names each
 * rendition's length, so nothing in the image bytes needs escaping.
 */

export const RELAY_MAGIC = 'EZR1';
/** A relay message larger than this is neither sent nor read: 32 renditions of a 4K frame fit well below. */
export const MAX_RELAY_BYTES = 32 * 1024 * 1024;
/** Header JSON larger than this is refused before parsing. */
export const MAX_RELAY_HEADER_BYTES = 64 * 1024;
const MAX_RENDITIONS = 64;

export interface RelayedRendition {
  key: string;
  encoded: EncodedImage;
}

export interface RelayMessage {
  /** The node that published it (a node ignores its own). */
  node: string;
  slug: string;
  epoch: number;
  seq: number;
  slotTime: number;
  presentAt: number | undefined;
  madeAt: string;
  imageId: string;
  source: string;
  prompt: string | undefined;
  renditions: RelayedRendition[];
}

export class RelayMessageError extends Error {}

const FORMATS: readonly ImageFormat[] = ['webp', 'jpeg', 'avif'];

export function encodeRelayMessage(message: RelayMessage): Buffer {
  const header = JSON.stringify({
    node: message.node,
    slug: message.slug,
    epoch: message.epoch,
    seq: message.seq,
    slotTime: message.slotTime,
    ...(message.presentAt !== undefined ? { presentAt: message.presentAt } : {}),
    madeAt: message.madeAt,
    imageId: message.imageId,
    source: message.source,
    ...(message.prompt !== undefined ? { prompt: message.prompt } : {}),
    renditions: message.renditions.map(({ key, encoded: e }) => ({
      key,
      format: e.format,
      mime: e.mime,
      width: e.width,
      height: e.height,
      bytes: e.data.length,
      ...(e.tile ? { tile: e.tile } : {}),
    })),
  });
  const head = Buffer.from(header, 'utf8');
  const total = 8 + head.length + message.renditions.reduce((n, r) => n + r.encoded.data.length, 0);
  if (head.length > MAX_RELAY_HEADER_BYTES || total > MAX_RELAY_BYTES)
    throw new RelayMessageError(`Relay message of ${total} bytes is over the limit of ${MAX_RELAY_BYTES}`);
  const prefix = Buffer.alloc(8);
  prefix.write(RELAY_MAGIC, 0, 'latin1');
  prefix.writeUInt32BE(head.length, 4);
  return Buffer.concat([prefix, head, ...message.renditions.map((r) => r.encoded.data)], total);
}

const isInt = (v: unknown, min: number, max: number): v is number =>
  Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max;
/** Times are epoch ms on the cluster's clock (Redis's, reference-clock.ts), with a fraction of a ms. */
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const fail = (why: string): never => {
  throw new RelayMessageError(`Malformed relay message: ${why}`);
};

function readTile(v: unknown): TilePosition | undefined {
  if (v === undefined) return undefined;
  const t = v as Record<string, unknown>;
  if (typeof v !== 'object' || v === null || !isInt(t.column, 1, 16) || !isInt(t.row, 1, 16)) return fail('bad tile');
  return { column: t.column as number, row: t.row as number };
}

/** Reads a relay message; throws RelayMessageError for anything malformed or oversized, never anything else. */
export function decodeRelayMessage(data: Buffer): RelayMessage {
  if (data.length > MAX_RELAY_BYTES) fail(`${data.length} bytes, over the limit of ${MAX_RELAY_BYTES}`);
  if (data.length < 8 || data.toString('latin1', 0, 4) !== RELAY_MAGIC) fail('not a relay message');
  const headLength = data.readUInt32BE(4);
  if (headLength > MAX_RELAY_HEADER_BYTES || 8 + headLength > data.length) fail('header length out of range');
  let h: Record<string, unknown>;
  try {
    h = JSON.parse(data.toString('utf8', 8, 8 + headLength)) as Record<string, unknown>;
  } catch {
    return fail('header is not JSON');
  }
  if (typeof h !== 'object' || h === null) fail('header is not an object');
  if (!isText(h.node, 200) || !isText(h.slug, 200) || !isText(h.imageId, 1000) || !isText(h.source, 100) || !isText(h.madeAt, 40))
    fail('missing text field');
  if (h.prompt !== undefined && !isText(h.prompt, 10_000)) fail('bad prompt');
  if (!isInt(h.epoch, 1, Number.MAX_SAFE_INTEGER) || !isInt(h.seq, 1, Number.MAX_SAFE_INTEGER)) fail('bad epoch or seq');
  if (!isTime(h.slotTime)) fail('bad slotTime');
  if (h.presentAt !== undefined && !isTime(h.presentAt)) fail('bad presentAt');
  if (!Array.isArray(h.renditions) || h.renditions.length === 0 || h.renditions.length > MAX_RENDITIONS) fail('bad renditions');
  let offset = 8 + headLength;
  const renditions = (h.renditions as unknown[]).map((v): RelayedRendition => {
    const r = (v ?? {}) as Record<string, unknown>;
    if (!isText(r.key, 300) || !isText(r.mime, 50) || !FORMATS.includes(r.format as ImageFormat)) fail('bad rendition');
    if (!isInt(r.width, 1, 65_536) || !isInt(r.height, 1, 65_536) || !isInt(r.bytes, 1, MAX_RELAY_BYTES)) fail('bad rendition size');
    const end = offset + (r.bytes as number);
    if (end > data.length) fail('rendition bytes cut short');
    const tile = readTile(r.tile);
    const encoded: EncodedImage = {
      // A copy: the message buffer is let go, the renditions live on as the latest frame.
      data: Buffer.from(data.subarray(offset, end)),
      format: r.format as ImageFormat,
      mime: r.mime as string,
      width: r.width as number,
      height: r.height as number,
      ...(tile ? { tile } : {}),
    };
    offset = end;
    return { key: r.key as string, encoded };
  });
  if (offset !== data.length) fail('trailing bytes');
  return {
    node: h.node as string,
    slug: h.slug as string,
    epoch: h.epoch as number,
    seq: h.seq as number,
    slotTime: h.slotTime as number,
    presentAt: h.presentAt as number | undefined,
    madeAt: h.madeAt as string,
    imageId: h.imageId as string,
    source: h.source as string,
    prompt: h.prompt as string | undefined,
    renditions,
  };
}
