import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

const colours = ['#ff0000', '#00ff00', '#0000ff', '#ffff00', '#ff00ff', '#00ffff'];
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;
const clients: DisplayClient[] = [];

const connect = async (slugAndQuery: string, protocols?: string[]) => {
  const client = new DisplayClient(server.ws(slugAndQuery), protocols);
  clients.push(client);
  await client.opened;
  return client;
};

beforeAll(async () => {
  folder = tempFolder();
  for (const [i, c] of colours.entries()) putImage(folder.dir, `${i}.png`, await solidPng(c, 640, 480));
  server = await startTestServer({
    EASEL_FOLDER: folder.dir,
    EASEL_CANVASES: JSON.stringify([{ slug: 'left-canva' }, { slug: 'right-canva', source: { order: 'shuffle' } }]),
  });
  // Let both canvases publish a first frame so late joiners have something.
  await vi.waitFor(() => expect(server.server.registry.list().every((c) => c.snapshot().lastFrame)).toBe(true), { timeout: 5000 });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
  folder.remove();
});

describe('display streaming', () => {
  it('sends every display of two canvases about 4 frames a second', async () => {
    const displays = await Promise.all(Array.from({ length: 20 }, (_, i) => connect(i % 2 === 0 ? 'left-canva' : 'right-canva')));
    const windowMs = 4000;
    await new Promise((r) => setTimeout(r, windowMs + 300));
    for (const d of displays) {
      const count = d.framesWithin(windowMs).length;
      // 16 slots fall in 4 s; allow one either side for where the window edges land, and a little for a busy box.
      expect(count).toBeGreaterThanOrEqual(14);
      expect(count).toBeLessThanOrEqual(18);
    }
    for (const d of displays) {
      const seqs = d.frames.map((f) => f.header.seq);
      expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1]!)).toBe(true);
    }
    // Displays of one canvas see the same frames.
    const left = displays.filter((_, i) => i % 2 === 0);
    const lastSeq = Math.min(...left.map((d) => d.frames.at(-1)!.header.seq));
    const idsAt = (d: DisplayClient) => d.frames.find((f) => f.header.seq === lastSeq)?.header.imageId;
    expect(new Set(left.map(idsAt)).size).toBe(1);
  });

  it('greets a v2 display with hello, then frames stamped with the instant every screen shows them', async () => {
    const d = await connect('left-canva');
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThanOrEqual(4), { timeout: 5000 });
    expect(d.json()[0]).toMatchObject({ type: 'hello', protocol: 2, canvas: 'left-canva', fps: 4, sync: true, leadMs: 300 });
    expect(typeof d.json()[0]!.serverTime).toBe('number');
    const { header, image } = d.frames[0]!;
    expect(header).toMatchObject({ type: 'frame', mime: 'image/webp', width: 640, height: 480, source: 'folder' });
    expect((await sharp(image).metadata()).format).toBe('webp');
    for (const { header: h } of d.frames) {
      // The time a screen shows is the presentation instant; when the image was loaded is madeAt.
      expect(h.timestamp).toBe(new Date(h.presentAt!).toISOString());
      expect(new Date(h.madeAt!).getTime()).toBeLessThanOrEqual(h.presentAt!);
    }
    // Presentation instants sit on the canvas's slot grid: a whole number of 250 ms periods apart.
    const instants = d.frames.slice(1).map((f) => f.header.presentAt!);
    for (const [i, t] of instants.entries()) if (i > 0) expect((t - instants[i - 1]!) % 250).toBe(0);
  });

  it('gives a late joiner the latest frame within 100 ms', async () => {
    for (let i = 0; i < 3; i++) {
      const d = await connect('right-canva');
      await vi.waitFor(() => expect(d.frames.length).toBeGreaterThan(0), { timeout: 1000, interval: 5 });
      expect(d.frames[0]!.at - d.openedAt).toBeLessThan(100);
    }
  });

  it('answers a clock-sync ping with a pong and ignores the seed keep-alive', async () => {
    const d = await connect('left-canva');
    d.socket.send('ping');
    d.socket.send(JSON.stringify({ type: 'ping', t0: 12345.5 }));
    await vi.waitFor(() => expect(d.json().some((m) => m.type === 'pong')).toBe(true), { timeout: 5000 });
    const pong = d.json().find((m) => m.type === 'pong')!;
    expect(pong).toMatchObject({ type: 'pong', t0: 12345.5 });
    expect(Math.abs((pong.serverTime as number) - Date.now())).toBeLessThan(1000);
  });

  it('sends a smaller rendition when the display says its screen is small', async () => {
    const d = await connect('left-canva?w=300&h=200&dpr=1');
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThan(0), { timeout: 5000 });
    expect(d.frames[0]!.header).toMatchObject({ width: 480, height: 360 });
    d.socket.send(JSON.stringify({ type: 'viewport', w: 1000, h: 800, dpr: 2 }));
    await vi.waitFor(() => expect(d.frames.at(-1)!.header.width).toBe(640), { timeout: 5000 });
  });

  it('counts and ignores messages outside the protocol without closing the display', async () => {
    const d = await connect('left-canva');
    const before = server.server.displays.ignoredMessages;
    d.socket.send('{not json');
    d.socket.send(JSON.stringify({ type: 'launch-missiles' }));
    d.socket.send(Buffer.from([1, 2, 3]));
    d.socket.send(JSON.stringify({ type: 'viewport', w: -1, h: 'x' }));
    await vi.waitFor(() => expect(server.server.displays.ignoredMessages - before).toBe(4), { timeout: 5000 });
    const count = d.frames.length;
    await vi.waitFor(() => expect(d.frames.length).toBeGreaterThan(count), { timeout: 5000 });
  });
});

describe('seed-compatible JSON mode', () => {
  it("is what a client that asks for nothing gets, as the seed's own Canvas component connects", async () => {
    const d = await connect('left-canva', []);
    await vi.waitFor(() => expect(d.texts.length).toBeGreaterThanOrEqual(2), { timeout: 3000 });
    expect(d.frames).toHaveLength(0);
    expect(d.socket.protocol).toBe('');
    // The seed does JSON.parse(event.data) on every message: each must parse, with its image.
    for (const text of d.texts) expect(Object.keys(JSON.parse(text) as object)).toEqual(['timestamp', 'image', 'image_id']);
    // Its time is the slot the frame was sent in: never ahead of its arrival by more than the box's jitter.
    const stamp = Date.parse((JSON.parse(d.texts.at(-1)!) as { timestamp: string }).timestamp);
    expect(stamp).toBeLessThanOrEqual(Date.now());
  });

  it('sends only {timestamp, image, image_id} frames whose image is a JPEG', async () => {
    const d = await connect('left-canva?format=json', []);
    d.socket.send(JSON.stringify({ type: 'ping', t0: 1 })); // must not be answered in this mode
    await vi.waitFor(() => expect(d.texts.length).toBeGreaterThanOrEqual(3), { timeout: 3000 });
    expect(d.frames).toHaveLength(0);
    for (const text of d.texts) {
      const message = JSON.parse(text) as Record<string, string>;
      expect(Object.keys(message)).toEqual(['timestamp', 'image', 'image_id']);
      expect(text).toBe(JSON.stringify({ timestamp: message.timestamp, image: message.image, image_id: message.image_id }));
      expect(new Date(message.timestamp!).toISOString()).toBe(message.timestamp);
      const jpeg = Buffer.from(message.image!, 'base64');
      expect(jpeg.subarray(0, 3)).toEqual(Buffer.from([0xff, 0xd8, 0xff]));
      expect((await sharp(jpeg).metadata()).format).toBe('jpeg');
    }
  });
});
