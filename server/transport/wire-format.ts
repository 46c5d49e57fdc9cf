import { SUBPROTOCOLS, type WireFormat } from '../../protocol/wire.js';
import type { Problem } from './http-reply.js';

export type WireFormatChoice = { ok: true; format: WireFormat; subprotocol: string } | { ok: false; problem: Problem };

const OFFERED = Object.keys(SUBPROTOCOLS);

/**
 * What a connecting display gets. A client that asks for nothing gets the seed's JSON frames (the
 * seed's own client does `JSON.parse(event.data)`); Easel's pages ask for binary v2 with the
 * `easel.v2` subprotocol; `?format=binary` without one is binary v1, as before subprotocols.
 */
export function chooseWireFormat(formatParam: string | null, protocolHeader: string): WireFormatChoice {
  const offered = protocolHeader
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const subprotocol = OFFERED.find((p) => offered.includes(p));
  if (offered.length > 0 && subprotocol === undefined) {
    const named = offered.join(', ');
    return refuse(
      'Unknown subprotocol',
      `Sec-WebSocket-Protocol "${named.length > 80 ? `${named.slice(0, 80)}…` : named}" names none of ${OFFERED.join(', ')}`,
      'Ask for easel.v2 (binary frames with presentation times), or for no subprotocol (JSON frames)',
    );
  }
  const format = formatParam || undefined;
  if (format !== undefined && format !== 'binary' && format !== 'json') {
    return refuse(
      'Unknown format',
      `Format "${format.length > 40 ? `${format.slice(0, 40)}…` : format}" is not one of binary, json`,
      'Leave format out for the seed-compatible JSON frames (or the binary frames of the subprotocol asked for), or use format=binary',
    );
  }
  if (subprotocol !== undefined) {
    if (format === 'json') {
      return refuse(
        'Format contradicts the subprotocol',
        `format=json asks for JSON frames but the subprotocol ${subprotocol} is binary`,
        'Leave format out when asking for a subprotocol',
      );
    }
    return { ok: true, format: SUBPROTOCOLS[subprotocol]!, subprotocol };
  }
  return { ok: true, format: format === 'binary' ? { mode: 'binary', protocol: 1 } : { mode: 'json' }, subprotocol: '' };
}

function refuse(title: string, detail: string, hint: string): WireFormatChoice {
  return { ok: false, problem: { title, detail, hint } };
}
