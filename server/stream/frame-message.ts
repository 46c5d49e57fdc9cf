/**
 * The two wire shapes of a frame (docs/protocol.md, protocol v1). Both are built once per frame and
 * rendition and then sent as-is to every display that wants them.
 */

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
  /** Epoch ms at which every display of the canvas should show it. */
  presentAt?: number;
}

/** Binary mode: 4-byte big-endian header length, the UTF-8 JSON header, then the image bytes. */
export function encodeFrameMessage(header: FrameHeader, image: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(4 + json.length + image.length);
  out.writeUInt32BE(json.length, 0);
  json.copy(out, 4);
  out.set(image, 4 + json.length);
  return out;
}

export function decodeFrameMessage(message: Uint8Array): { header: FrameHeader; image: Uint8Array } {
  if (message.length < 4) throw new RangeError(`Expected a frame message of at least 4 bytes but received ${message.length}`);
  const view = new DataView(message.buffer, message.byteOffset, message.byteLength);
  const length = view.getUint32(0, false);
  if (4 + length > message.length) {
    throw new RangeError(`Expected a header of ${length} bytes but the message holds only ${message.length - 4}`);
  }
  const header = JSON.parse(new TextDecoder().decode(message.subarray(4, 4 + length))) as FrameHeader;
  if (header.type !== 'frame') throw new TypeError(`Expected a header of type "frame" but received "${String(header.type)}"`);
  return { header, image: message.subarray(4 + length) };
}

/**
 * JSON mode, the seed-compatible shape: exactly these keys in this order, so existing clients
 * that do `JSON.parse(event.data)` and show `data:image/jpeg;base64,${data.image}` keep working.
 */
export function encodeSeedMessage(timestamp: string, image: Uint8Array, imageId: string): string {
  const base64 = Buffer.from(image.buffer, image.byteOffset, image.byteLength).toString('base64');
  return JSON.stringify({ timestamp, image: base64, image_id: imageId });
}
