import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

// displays.fanOut = topics: the same frames reach every display through one uWS publish per rendition.
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;
const clients: DisplayClient[] = [];

beforeAll(async () => {
  folder = tempFolder();
  for (const [i, c] of ['#ff0000', '#00ff00', '#0000ff'].entries()) putImage(folder.dir, `${i}.png`, await solidPng(c, 1280, 960));
  server = await startTestServer({
    EASEL_FOLDER: folder.dir,
    EASEL_DISPLAY_FAN_OUT: 'topics',
    EASEL_CANVASES: JSON.stringify([{ slug: 'topics' }]),
  });
});

afterAll(async () => {
  for (const c of clients) c.close();
  await server.close();
  folder.remove();
});

describe('fan-out through uWS topics', () => {
  it('gives binary, small-rendition and JSON displays of one canvas the same frames', async () => {
    const urls: Array<[string, string[]?]> = [['topics'], ['topics'], ['topics?w=160&h=120'], ['topics', []]];
    for (const [url, protocols] of urls) {
      const client = new DisplayClient(server.ws(url), protocols);
      clients.push(client);
      await client.opened;
    }
    const [a, b, small, json] = clients as [DisplayClient, DisplayClient, DisplayClient, DisplayClient];
    await vi.waitFor(
      () => expect(Math.min(a.frames.length, b.frames.length, small.frames.length, json.texts.length)).toBeGreaterThanOrEqual(6),
      {
        timeout: 10_000,
      },
    );
    const seqs = (d: DisplayClient) => new Set(d.frames.map((f) => f.header.seq));
    const common = [...seqs(a)].filter((s) => seqs(b).has(s) && seqs(small).has(s));
    expect(common.length).toBeGreaterThanOrEqual(4);
    expect(small.frames.at(-1)!.header.width).toBeLessThan(a.frames.at(-1)!.header.width);
    const ids = (d: DisplayClient) => new Map(d.frames.map((f) => [f.header.seq, f.header.imageId]));
    for (const s of common) expect(ids(b).get(s)).toBe(ids(a).get(s));
  });
});
