import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bandsPng, meanColour, putImage } from '../support/images.js';
import { DisplayClient, refusedUpgrade } from '../support/display-client.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

// A 2x1 wall of 160x120 screens with a 20 px bezel; each source frame is two colour bands with a
// white strip where the bezel is, so a tile showing white would be showing what the bezel hides.
const GRID = { columns: 2, rows: 1, bezelPx: 20, tileWidth: 160, tileHeight: 120 };
const FRAMES = [
  ['#ff0000', '#0000ff'],
  ['#00ff00', '#ffff00'],
] as const;
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;

beforeAll(async () => {
  folder = tempFolder();
  for (const [i, colours] of FRAMES.entries()) putImage(folder.dir, `${i}.png`, await bandsPng([...colours], 160, 120, 20));
  server = await startTestServer({
    EASEL_FOLDER: folder.dir,
    EASEL_FPS: '8',
    EASEL_FORMATS: 'jpeg',
    EASEL_CANVASES: JSON.stringify([{ slug: 'lobby', fit: 'cover', tiles: GRID }, { slug: 'plain' }]),
  });
});

afterAll(async () => {
  await server?.close();
  folder?.remove();
});

const near = (a: readonly number[], hex: string) => {
  const want = [1, 3, 5].map((i) => Number.parseInt(hex.slice(i, i + 2), 16));
  return a.every((v, i) => Math.abs(v - want[i]!) < 40);
};

describe('a display joining a tiled wall', () => {
  it('gets its own half of each frame, the bezel strip left out, and both tiles get every frame under one seq', async () => {
    const left = new DisplayClient(server.ws('lobby?tile=1,1'));
    const right = new DisplayClient(server.ws('lobby?tile=2,1'));
    await Promise.all([left.opened, right.opened]);
    await expect.poll(() => Math.min(left.frames.length, right.frames.length), { timeout: 10_000 }).toBeGreaterThanOrEqual(6);
    left.close();
    right.close();

    expect(left.json()[0]).toMatchObject({ type: 'hello', canvas: 'lobby', tile: { column: 1, row: 1 }, grid: GRID });
    const bySeq = new Map(right.frames.map((f) => [f.header.seq, f]));
    const shared = left.frames.filter((f) => bySeq.has(f.header.seq));
    expect(shared.length).toBeGreaterThanOrEqual(4);
    const seen = new Set<number>();
    for (const l of shared) {
      const r = bySeq.get(l.header.seq)!;
      expect(l.header).toMatchObject({
        width: 160,
        height: 120,
        imageId: r.header.imageId,
        timestamp: r.header.timestamp,
        tile: { column: 1, row: 1 },
      });
      expect(l.header.presentAt).toEqual(expect.any(Number));
      expect(r.header).toMatchObject({ tile: { column: 2, row: 1 }, presentAt: l.header.presentAt });
      const [lc, rc] = await Promise.all([meanColour(l.image), meanColour(r.image)]);
      // Both halves come from the same source frame, whichever it was.
      const frame = FRAMES.findIndex(([a, b]) => near(lc, a) && near(rc, b));
      expect(frame, `seq ${l.header.seq}: left ${lc} right ${rc}`).toBeGreaterThanOrEqual(0);
      seen.add(frame);
    }
    expect(seen.size).toBe(2);
  });

  it('is refused with 400 and a hint for a malformed, oversized or off-grid tile, or a tile of a canvas with no grid', async () => {
    const cases: Array<[string, RegExp]> = [
      ['lobby?tile=', /not column,row/],
      ['lobby?tile=0,1', /not column,row/],
      ['lobby?tile=1', /not column,row/],
      ['lobby?tile=a,b', /not column,row/],
      ['lobby?tile=1%2C1%2C1', /not column,row/],
      ['lobby?tile=%E0%A4%A', /not column,row/],
      [`lobby?tile=${'9'.repeat(1000)}`, /not column,row/],
      [`lobby?tile=${'1,'.repeat(400)}1`, /not column,row/],
      ['lobby?tile=3,1', /off the 2x1 grid/],
      ['lobby?tile=1,2', /off the 2x1 grid/],
      ['plain?tile=1,1', /not a tiled wall/],
    ];
    for (const [target, detail] of cases) {
      const { status, body } = await refusedUpgrade(server.ws(target));
      expect(status, target.slice(0, 40)).toBe(400);
      const problem = JSON.parse(body) as Record<string, string>;
      expect(problem, target).toMatchObject({ title: 'Invalid tile', code: 'EASEL_ERR_REQUEST_INVALID', hint: expect.any(String) });
      expect(problem.detail, target).toMatch(detail);
      expect(problem.detail!.length, target).toBeLessThan(200);
    }
    // Past uWS's own header limit the request is refused before Easel sees it.
    expect((await refusedUpgrade(server.ws(`lobby?tile=${'9'.repeat(10_000)}`))).status).toBe(431);
    expect((await fetch(server.http('/healthz'))).status).toBe(200);
  });

  it('without a tile, a display of a wall gets the whole frame', async () => {
    const whole = new DisplayClient(server.ws('lobby'));
    await expect.poll(() => whole.frames.length, { timeout: 10_000 }).toBeGreaterThanOrEqual(1);
    whole.close();
    expect(whole.frames[0]!.header).toMatchObject({ width: 340, height: 120 });
    expect(whole.json()[0]!.tile).toBeUndefined();
  });
});
