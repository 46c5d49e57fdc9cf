import { createSocket, type Socket } from 'node:dgram';
import { Bundle, Message, encode } from 'node-osc';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
let udp: Socket;

beforeAll(async () => {
  server = await startTestServer({
    EASEL_OSC_ENABLED: 'true',
    EASEL_OSC_HOST: '127.0.0.1',
    EASEL_OSC_PORT: '0',
    EASEL_CANVASES: JSON.stringify([{ slug: 'stage', source: { type: 'folder' } }]),
  });
  udp = createSocket('udp4');
});

afterAll(async () => {
  udp.close();
  await server.close();
});

const send = (packet: Buffer) =>
  new Promise<void>((resolve, reject) => udp.send(packet, server.server.oscPort!, '127.0.0.1', (err) => (err ? reject(err) : resolve())));
const oscWarnings = () => server.logs.filter((l) => l.level === 40 && l.component === 'osc');
const malformed = async () => {
  const text = await (await fetch(server.http('/metrics'))).text();
  return Number(/^easel_osc_messages_total\{result="malformed"\} (\d+)$/m.exec(text)?.[1] ?? 0);
};

describe('an OSC flood', () => {
  it('writes a bounded number of warning lines while /metrics counts every message', async () => {
    const junk = (i: number): Buffer => {
      switch (i % 3) {
        case 0:
          return encode(new Message(`/junk/${i}`, i)); // unknown address, a new one each time
        case 1:
          return encode(new Message(`/easel/stage/explode-${i}`)); // a verb Easel does not know
        default:
          return Buffer.from(`not osc ${i}`); // does not decode at all
      }
    };
    // In batches, each waited for: loopback UDP drops what overflows the socket buffer, and
    // the test is about what arrives.
    for (let sent = 0; sent < 3000; ) {
      const batch = Math.min(100, 3000 - sent);
      await Promise.all(Array.from({ length: batch }, (_, k) => send(junk(sent + k))));
      sent += batch;
      await vi.waitFor(async () => expect(await malformed()).toBe(sent), { timeout: 5000, interval: 20 });
    }
    const bundle = new Bundle(0);
    for (let i = 0; i < 2000; i++) bundle.append([`/x/${i}`]); // 2,000 unknown addresses in one packet
    await send(encode(bundle));
    await vi.waitFor(async () => expect(await malformed()).toBe(5000), { timeout: 5000 });

    // One line per kind a minute: undecodable, not understood.
    expect(oscWarnings().length).toBeLessThanOrEqual(3);
    expect(oscWarnings().length).toBeGreaterThanOrEqual(1);
    const metrics = await (await fetch(server.http('/metrics'))).text();
    expect(metrics).toMatch(/^easel_osc_messages_total\{result="ok"\} 0$/m);
    expect(server.server.handlerErrors).toBe(0);
  });
});
