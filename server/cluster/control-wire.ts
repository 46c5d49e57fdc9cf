import { ERROR_CODES, EaselError, isEaselError, type ErrorCode } from '../errors.js';

/**
 * Commands across nodes: what one node sends another through Redis pub/sub, as JSON. A request
 * names the node to answer (`from`) and an id the answer carries back; image bytes never ride in
 * a message (they go in a Redis key, `blob`), so every message stays small. Anything that does
 * not read as one of these shapes is refused here, before it reaches a command.
 */

/** A control message larger than this is neither sent nor read (a prompt and a playlist name fit well below). */
export const MAX_CONTROL_BYTES = 256 * 1024;

export const REMOTE_OPS = [
  'setPrompt',
  'showStill',
  'setSource',
  'pause',
  'resume',
  'next',
  'startPlaylist',
  'stopPlaylist',
  'cancelJob',
  'describe',
] as const;
export type RemoteOp = (typeof REMOTE_OPS)[number];

export interface WireRequest {
  kind: 'request';
  id: string;
  /** The node that waits for the answer, on its own channel. */
  from: string;
  op: RemoteOp;
  /** The canvas it acts on; absent for a job's command (sent to the node that holds the job). */
  slug?: string;
  args: unknown[];
  /** Redis key of the image bytes (showStill). */
  blob?: string;
}

/** An EaselError as it crosses; `internal` for any other failure (a bug), told as a 500 like a single server would. */
export type WireError = { code: ErrorCode; message: string; hint: string; details: Record<string, unknown> } | { internal: string };

export type WireReply =
  | { kind: 'reply'; id: string; from: string; ok: true; result?: unknown }
  | { kind: 'reply'; id: string; from: string; ok: false; error: WireError }
  /** The node no longer produces the canvas (its lease moved): ask the new owner. */
  | { kind: 'reply'; id: string; from: string; moved: true };

export type ControlMessage = WireRequest | WireReply;

export class ControlMessageError extends Error {}

export function encodeControl(message: ControlMessage): string {
  const text = JSON.stringify(message);
  if (Buffer.byteLength(text) > MAX_CONTROL_BYTES)
    throw new ControlMessageError(`Control message of ${text.length} characters is over the limit`);
  return text;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 200;

/** Throws ControlMessageError for anything that is not a whole, well-formed message. */
export function decodeControl(raw: Buffer | string): ControlMessage {
  const bytes = typeof raw === 'string' ? Buffer.byteLength(raw) : raw.length;
  if (bytes > MAX_CONTROL_BYTES) throw new ControlMessageError(`${bytes} bytes is over the limit of ${MAX_CONTROL_BYTES}`);
  let m: unknown;
  try {
    m = JSON.parse(raw.toString());
  } catch {
    throw new ControlMessageError('not JSON');
  }
  if (!isObject(m) || !isId(m.id) || !isId(m.from)) throw new ControlMessageError('no id or sender');
  if (m.kind === 'request') {
    if (!REMOTE_OPS.includes(m.op as RemoteOp)) throw new ControlMessageError(`unknown op ${JSON.stringify(m.op)?.slice(0, 40)}`);
    if (!Array.isArray(m.args) || m.args.length > 4) throw new ControlMessageError('args is not a short list');
    if (m.slug !== undefined && !isId(m.slug)) throw new ControlMessageError('slug is not a string');
    if (m.blob !== undefined && !isId(m.blob)) throw new ControlMessageError('blob is not a key');
    return m as unknown as WireRequest;
  }
  if (m.kind === 'reply') {
    if (m.moved === true || m.ok === true) return m as unknown as WireReply;
    if (m.ok === false && isObject(m.error) && (typeof m.error.internal === 'string' || typeof m.error.code === 'string'))
      return m as unknown as WireReply;
    throw new ControlMessageError('reply without a result or an error');
  }
  throw new ControlMessageError(`unknown kind ${JSON.stringify(m.kind)?.slice(0, 40)}`);
}

export function errorToWire(err: unknown): WireError {
  if (isEaselError(err)) return { code: err.code, message: err.message, hint: err.hint, details: err.details };
  return { internal: err instanceof Error ? err.message : String(err) };
}

/** The error the asking node throws: the same EaselError the owner threw, so its HTTP answer is the same. */
export function errorFromWire(wire: WireError): Error {
  if ('internal' in wire) return new Error(`On the node producing the canvas: ${wire.internal}`);
  if (!(wire.code in ERROR_CODES) || typeof wire.message !== 'string' || typeof wire.hint !== 'string')
    return new Error(`Unreadable error from another node: ${String(wire.code).slice(0, 80)}`);
  return new EaselError(wire.code, wire.message, { hint: wire.hint, details: isObject(wire.details) ? wire.details : {} });
}
