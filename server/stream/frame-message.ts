/**
 * The server's side of the frame messages of protocol/wire.ts: binary frames are encoded there;
 * the seed's JSON frame needs base64, which only Node's Buffer does fast.
 */
export { decodeFrameMessage, encodeFrameMessage, type FrameHeader } from '../../protocol/wire.js';

/**
 * JSON mode, the seed-compatible shape: exactly these keys in this order, so existing clients
 * that do `JSON.parse(event.data)` and show `data:image/jpeg;base64,${data.image}` keep working.
 */
export function encodeSeedMessage(timestamp: string, image: Uint8Array, imageId: string): string {
  const base64 = Buffer.from(image.buffer, image.byteOffset, image.byteLength).toString('base64');
  return JSON.stringify({ timestamp, image: base64, image_id: imageId });
}
