import { parseViewport } from '../stream/rendition.js';

/** Protocol v1: a client message over this size closes the socket with 1009. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

/** What a display said, read without touching the socket: the route acts on it. */
export type ClientMessage =
  | { kind: 'too-big' }
  /** Outside the protocol: counted and dropped. */
  | { kind: 'ignored' }
  /** The seed's plain-text `ping` keep-alive: nothing to do. */
  | { kind: 'keep-alive' }
  | { kind: 'ping'; t0: number; offsetMs: number | undefined }
  | { kind: 'viewport'; viewport: { w: number; h: number; dpr: number } };

const decoder = new TextDecoder();

/** Reads one message from a display (protocol v1: ping with clock offset, viewport). */
export function readClientMessage(message: ArrayBuffer, isBinary: boolean): ClientMessage {
  if (message.byteLength > MAX_CLIENT_MESSAGE_BYTES) return { kind: 'too-big' };
  if (isBinary) return { kind: 'ignored' };
  const text = decoder.decode(message);
  if (text === 'ping') return { kind: 'keep-alive' };
  let msg: { type?: unknown; t0?: unknown; w?: unknown; h?: unknown; dpr?: unknown; offset?: unknown };
  try {
    msg = JSON.parse(text) as typeof msg;
  } catch {
    return { kind: 'ignored' };
  }
  if (msg?.type === 'ping' && typeof msg.t0 === 'number' && Number.isFinite(msg.t0)) {
    const offsetMs = typeof msg.offset === 'number' && Number.isFinite(msg.offset) ? msg.offset : undefined;
    return { kind: 'ping', t0: msg.t0, offsetMs };
  }
  if (msg?.type === 'viewport') {
    const viewport = parseViewport(msg.w, msg.h, msg.dpr);
    return viewport ? { kind: 'viewport', viewport } : { kind: 'ignored' };
  }
  return { kind: 'ignored' };
}
