import net from 'node:net';

export interface RawReply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte, so a test can send what fetch refuses to (malformed
 * percent-encodings, odd header bytes, HTTP/1.0). Rejects when the server drops the connection
 * without a reply.
 */
export function rawRequest(port: number, head: string | Buffer, body: Buffer = Buffer.alloc(0), timeoutMs = 5000): Promise<RawReply> {
  const headOnly = (typeof head === 'string' ? head : head.toString('latin1')).startsWith('HEAD ');
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      socket.destroy();
      reject(new Error('no reply in time'));
    }, timeoutMs);
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      if (!match || split < 0) {
        reject(new Error(`connection closed without a reply (${chunks.length ? JSON.stringify(text.slice(0, 80)) : 'nothing received'})`));
        return;
      }
      const headers: Record<string, string> = {};
      for (const line of text.slice(0, split).split('\r\n').slice(1)) {
        const colon = line.indexOf(':');
        if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      resolve({ status: Number(match[1]), headers, body: text.slice(split + 4) });
    };
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      // One reply is enough: stop once its declared length has arrived.
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return;
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split));
      // No length (a stream, or a reply to HEAD): the status line and headers are the reply.
      if (!length || headOnly || Buffer.byteLength(text.slice(split + 4), 'latin1') >= Number(length[1])) {
        socket.destroy();
        finish();
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', finish);
    socket.write(head);
    if (body.length) socket.write(body);
  });
}
