import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { openEventStream, type HeldStream } from '../support/event-stream.js';
import { startTestServer, type TestServer } from '../support/server.js';

let server: TestServer;
const held: HeldStream[] = [];

beforeAll(async () => {
  server = await startTestServer({ EASEL_MAX_EVENT_STREAMS: '3', EASEL_EVENT_STREAMS_PER_ADDRESS: '2' });
});

afterAll(async () => {
  for (const s of held) s.close();
  await server.close();
});

const open = async (localAddress: string) => {
  const stream = await openEventStream(server.port, { localAddress });
  held.push(stream);
  return stream;
};
const refusedMetric = async (reason: string) => {
  const text = await (await fetch(server.http('/metrics'))).text();
  return Number(new RegExp(`^easel_requests_refused_total\\{reason="${reason}"\\} (\\d+)$`, 'm').exec(text)?.[1]);
};

describe('event stream limits', () => {
  it('refuses a stream past the per-address cap with 429 and past the overall cap with 503', async () => {
    expect((await open('127.0.0.1')).status).toBe(200);
    expect((await open('127.0.0.1')).status).toBe(200);
    const third = await open('127.0.0.1');
    expect(third.status).toBe(429);
    expect(JSON.parse(third.body)).toMatchObject({
      code: 'EASEL_ERR_LIMIT_REACHED',
      hint: expect.stringContaining('limits.eventStreamsPerAddress'),
    });

    // Another address may still open one, up to the overall cap.
    expect((await open('127.0.0.2')).status).toBe(200);
    const over = await open('127.0.0.2');
    expect(over.status).toBe(503);
    expect(JSON.parse(over.body)).toMatchObject({
      code: 'EASEL_ERR_LIMIT_REACHED',
      hint: expect.stringContaining('limits.maxEventStreams'),
    });
    expect(await refusedMetric('event_streams_per_address')).toBe(1);
    expect(await refusedMetric('event_streams')).toBe(1);

    // A stream that ends gives its place back.
    held[0]!.close();
    await vi.waitFor(async () => expect((await open('127.0.0.1')).status).toBe(200), { timeout: 5000 });
    expect(server.server.handlerErrors).toBe(0);
  });
});
