import http from 'node:http';

export interface HeldStream {
  status: number;
  /** The problem body of a refusal; empty for a stream that was accepted. */
  body: string;
  close(): void;
}

/**
 * Opens GET /api/events on its own connection (no agent pooling) and, when accepted, keeps it
 * open until close(): the way a console, or someone hoarding connections, holds a stream.
 */
export function openEventStream(port: number, options: { localAddress?: string; host?: string } = {}): Promise<HeldStream> {
  return new Promise((resolve, reject) => {
    const req = http.get(
      { host: options.host ?? '127.0.0.1', port, path: '/api/events', agent: false, localAddress: options.localAddress },
      (res) => {
        const close = () => req.destroy();
        if (res.statusCode === 200) {
          resolve({ status: 200, body: '', close });
          res.on('error', () => undefined);
          return;
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, close }));
      },
    );
    req.on('error', reject);
  });
}
