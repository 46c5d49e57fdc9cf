import { parseClientText, type ReportMessage } from '../../protocol/wire.js';
import { parseViewport } from '../stream/rendition.js';

/** A client message over this size closes the socket with 1009. */
export const MAX_CLIENT_MESSAGE_BYTES = 4096;

/** What a display said, read without touching the socket: the route acts on it. */
export type ClientMessage =
  | { kind: 'too-big' }
  /** Outside the protocol: counted and dropped. */
  | { kind: 'ignored' }
  /** The seed's plain-text `ping` keep-alive: nothing to do. */
  | { kind: 'keep-alive' }
  | { kind: 'ping'; t0: number; offsetMs: number | undefined }
  | { kind: 'viewport'; viewport: { w: number; h: number; dpr: number } }
  | { kind: 'report'; report: ReportMessage };

const decoder = new TextDecoder();

/** Reads one message from a display (protocol/wire.ts: ping, viewport, report). */
export function readClientMessage(message: ArrayBuffer, isBinary: boolean): ClientMessage {
  if (message.byteLength > MAX_CLIENT_MESSAGE_BYTES) return { kind: 'too-big' };
  if (isBinary) return { kind: 'ignored' };
  const text = decoder.decode(message);
  if (text === 'ping') return { kind: 'keep-alive' };
  const msg = parseClientText(text);
  switch (msg?.type) {
    case 'ping':
      return { kind: 'ping', t0: msg.t0, offsetMs: msg.offset };
    case 'viewport': {
      const viewport = parseViewport(msg.w, msg.h, msg.dpr);
      return viewport ? { kind: 'viewport', viewport } : { kind: 'ignored' };
    }
    case 'report':
      return { kind: 'report', report: msg };
    default:
      return { kind: 'ignored' };
  }
}
