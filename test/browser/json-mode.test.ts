import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { meanColour } from '../support/images.js';
import { startDisplayServer, type DisplayServer } from './fixtures.js';

let server: DisplayServer;

beforeAll(async () => {
  server = await startDisplayServer([
    {
      slug: 'seed',
      fps: 8,
      images: [
        { name: 'a.png', colour: '#ff0000', width: 640, height: 480 },
        { name: 'b.png', colour: '#fa0000', width: 640, height: 480 },
      ],
    },
  ]);
});

afterAll(async () => {
  await server?.close();
});

describe('the seed-compatible JSON mode', () => {
  it('gives a plain client JSON frames whose base64 image decodes as a JPEG of the canvas', async () => {
    const socket = new WebSocket(server.ws('seed?format=json'));
    const messages: Array<{ data: string; isBinary: boolean }> = [];
    socket.on('message', (data: Buffer, isBinary) => messages.push({ data: data.toString('utf8'), isBinary }));
    // What the seed's page did: send its keep-alive text, parse every message as a frame.
    socket.on('open', () => socket.send('ping'));
    await expect.poll(() => messages.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
    socket.close();

    expect(messages.every((m) => !m.isBinary)).toBe(true);
    const frames = messages.map((m) => JSON.parse(m.data) as { timestamp: string; image: string; image_id: string });
    for (const frame of frames) {
      expect(Object.keys(frame).slice(0, 3)).toEqual(['timestamp', 'image', 'image_id']);
      expect(new Date(frame.timestamp).toISOString()).toBe(frame.timestamp);
    }
    expect(new Set(frames.map((f) => f.timestamp)).size).toBe(frames.length);
    const jpeg = Buffer.from(frames[0]!.image, 'base64');
    const meta = await sharp(jpeg).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 640, height: 480 });
    const [r, g, b] = await meanColour(jpeg);
    expect(r).toBeGreaterThan(230);
    expect(g + b).toBeLessThan(30);
  });
});
