import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from '../../display/src/backoff.js';
import { canvasBadge } from '../../display/src/console/describe.js';
import { decodeFrameMessage, parseServerText } from '../../protocol/wire.js';
import { formatFrameTime } from '../../display/src/frame-time.js';
import { parsePageOptions, slugFromLocation, wallColumns, wallGrid, wallSlugs } from '../../display/src/page-options.js';
import { wallLayout } from '../../display/src/wall-grid.js';
import { encodeFrameMessage, type FrameHeader } from '../../server/stream/frame-message.js';

// The display's pure modules, run in Node: no browser needed to pin down their contracts.

const header: FrameHeader = {
  type: 'frame',
  imageId: 'f-1a2b',
  seq: 7,
  timestamp: '2026-11-21T12:00:00.250Z',
  mime: 'image/webp',
  width: 960,
  height: 540,
  source: 'folder',
  prompt: 'ünïcödé ✓ 🌅',
  presentAt: 1_790_000_000_000,
};

describe('the display frame decoder', () => {
  it('decodes exactly what the server encoder writes, header and image bytes', () => {
    const image = Uint8Array.from([0, 1, 2, 253, 254, 255]);
    // The browser gets an ArrayBuffer of its own: copy the Node Buffer out of its pool.
    const message = new Uint8Array(encodeFrameMessage(header, image));
    const decoded = decodeFrameMessage(message);
    expect(decoded.header).toEqual(header);
    expect([...decoded.image]).toEqual([...image]);
  });

  it('decodes a view that does not start at offset 0 of its buffer', () => {
    const message = encodeFrameMessage(header, Uint8Array.from([9]));
    const padded = new Uint8Array(message.length + 5);
    padded.set(message, 5);
    expect(decodeFrameMessage(padded.subarray(5)).header.seq).toBe(7);
  });

  it('refuses a truncated message and a header that is not a frame', () => {
    expect(() => decodeFrameMessage(Uint8Array.from([0, 0]))).toThrow(RangeError);
    const truncated = new Uint8Array(encodeFrameMessage(header, new Uint8Array(0))).subarray(0, 20);
    expect(() => decodeFrameMessage(truncated)).toThrow(/holds only 16/);
    const json = new TextEncoder().encode('{"type":"hello"}');
    const other = new Uint8Array(4 + json.length);
    new DataView(other.buffer).setUint32(0, json.length);
    other.set(json, 4);
    expect(() => decodeFrameMessage(other)).toThrow(TypeError);
  });

  it('reads hello (with optional transition settings) and pong, and nothing else', () => {
    expect(parseServerText('{"type":"hello","protocol":1,"canvas":"a","fps":4,"serverTime":5}')).toEqual({
      type: 'hello',
      protocol: 1,
      canvas: 'a',
      fps: 4,
      serverTime: 5,
    });
    expect(
      parseServerText('{"type":"hello","protocol":1,"canvas":"a","fps":4,"serverTime":5,"transition":"crossfade","transitionMs":300}'),
    ).toMatchObject({
      transition: 'crossfade',
      transitionMs: 300,
    });
    expect(
      parseServerText('{"type":"hello","protocol":1,"canvas":"a","fps":4,"serverTime":5,"transition":"wipe","transitionMs":-1}'),
    ).not.toHaveProperty('transition');
    expect(parseServerText('{"type":"pong","t0":1,"serverTime":2}')).toEqual({ type: 'pong', t0: 1, serverTime: 2 });
    for (const junk of ['', 'ping', 'null', '[]', '{"type":"status"}', '{"type":"pong","t0":"1"}'])
      expect(parseServerText(junk)).toBeUndefined();
  });
});

describe('reconnection backoff', () => {
  it('doubles from 250-500 ms, never waits past the cap, and takes off a random half', () => {
    expect(backoffDelay(0, () => 0)).toBe(250);
    expect(backoffDelay(0, () => 1)).toBe(500);
    expect(backoffDelay(1, () => 1)).toBe(1000);
    expect(backoffDelay(3, () => 1)).toBe(4000);
    for (const attempt of [5, 6, 50, 10_000]) {
      expect(backoffDelay(attempt, () => 1)).toBe(DEFAULT_BACKOFF.capMs);
      expect(backoffDelay(attempt, () => 0)).toBe(DEFAULT_BACKOFF.capMs / 2);
    }
  });
});

describe('the frame time in the corner', () => {
  it('is local wall-clock time with milliseconds', () => {
    expect(formatFrameTime(new Date(2026, 10, 21, 9, 5, 7, 42).toISOString())).toBe('09:05:07.042');
    expect(formatFrameTime(new Date(2026, 0, 1, 23, 59, 59, 999).toISOString())).toBe('23:59:59.999');
    expect(formatFrameTime(new Date(2026, 0, 1, 23, 59, 59, 999).getTime())).toBe('23:59:59.999');
  });

  it('is empty for a timestamp it cannot read', () => {
    expect(formatFrameTime('yesterday')).toBe('');
  });
});

describe('page options', () => {
  it('reads transition, fit, time, label and placeholder from the query, query names as documented', () => {
    expect(parsePageOptions('?transition=crossfade&transitionMs=400&fit=cover&time=0&label=1&placeholder=/p.png')).toEqual({
      transition: 'crossfade',
      transitionMs: 400,
      fit: 'cover',
      showTime: false,
      showLabel: true,
      placeholder: '/p.png',
    });
  });

  it('leaves out what makes no sense instead of failing', () => {
    expect(parsePageOptions('?transition=wipe&transitionMs=-3&fit=stretch&accept=<script>')).toEqual({ showTime: true, showLabel: false });
    expect(parsePageOptions('?transitionMs=999999').transitionMs).toBe(10_000);
  });

  it('finds the slug in /c/:slug, or ?slug= on the dev page, and only a valid one', () => {
    expect(slugFromLocation('/c/left-canva', '')).toBe('left-canva');
    expect(slugFromLocation('/c/left-canva/', '')).toBe('left-canva');
    expect(slugFromLocation('/c.html', '?slug=lobby-3')).toBe('lobby-3');
    expect(slugFromLocation('/c/Left', '')).toBeUndefined();
    expect(slugFromLocation('/c/%E0%A4', '')).toBeUndefined();
  });

  it('reads the wall slugs, with left-canva,right-canva by default', () => {
    expect(wallSlugs('')).toEqual(['left-canva', 'right-canva']);
    expect(wallSlugs('?slugs=a,b,a,,BAD,c')).toEqual(['a', 'b', 'c']);
    expect(wallSlugs('?slugs=BAD')).toEqual(['left-canva', 'right-canva']);
  });

  it('lays two canvases side by side on a landscape screen and stacked on a portrait one', () => {
    expect(wallColumns(2, 1920, 1080)).toBe(2);
    expect(wallColumns(2, 500, 800)).toBe(1);
    expect(wallColumns(4, 3840, 2160)).toBe(2);
    expect(wallColumns(3, 3840, 1080)).toBe(3);
    expect(wallColumns(1, 100, 100)).toBe(1);
  });
});

describe('tiled walls on the display side', () => {
  it('reads ?tile=column,row and leaves out anything else, for the server to have nothing bad to refuse', () => {
    expect(parsePageOptions('?tile=2,1').tile).toBe('2,1');
    for (const bad of ['0,1', '2', '2;1', 'a,b', '1,1,1', '9'.repeat(5000), '%E0%A4%A'])
      expect(parsePageOptions(`?tile=${bad}`).tile).toBeUndefined();
  });

  it('reads ?grid= for /wall only when it is a slug', () => {
    expect(wallGrid('?grid=lobby')).toBe('lobby');
    expect(wallGrid('?grid=Lobby One')).toBeUndefined();
    expect(wallGrid('')).toBeUndefined();
  });

  it('takes the tile and its grid from the hello, and no grid that does not describe one', () => {
    const tile = { column: 2, row: 1 };
    const grid = { columns: 2, rows: 1, bezelPx: 40, tileWidth: 320, tileHeight: 240 };
    const hello = (g: unknown) =>
      parseServerText(JSON.stringify({ type: 'hello', protocol: 2, canvas: 'lobby', fps: 4, serverTime: 1, tile, grid: g }));
    expect(hello(grid)).toMatchObject({ tile, grid });
    for (const bad of [{ ...grid, columns: 0 }, { ...grid, bezelPx: -1 }, { ...grid, tileWidth: 1.5 }, '2x1', null])
      expect(hello(bad)).not.toHaveProperty('grid');
  });

  it('lays every tile of a grid in its place with the bezel gaps at their true scale', () => {
    const layout = wallLayout({ columns: 2, rows: 1, bezelPx: 40, tileWidth: 320, tileHeight: 240 });
    expect(layout.aspect).toBeCloseTo(680 / 240);
    expect(layout.tiles.map((t) => [t.tile, Math.round(t.left * 10) / 10, t.width])).toEqual([
      ['1,1', 0, (320 * 100) / 680],
      ['2,1', 52.9, (320 * 100) / 680],
    ]);
  });
});

describe('the console badge of a canvas', () => {
  const fallback = { fallback: { active: true } };
  it('is a green "Streaming" only while the source works', () => {
    expect(canvasBadge({ state: 'streaming', source: { kind: 'inference', state: 'ok' } })).toEqual({ text: 'Streaming', tone: 'good' });
    expect(
      canvasBadge({ state: 'streaming', source: { kind: 'inference', state: 'waiting', reason: 'Generating the first images' } }).tone,
    ).toBe('good');
  });

  it('says degraded, in plain words and not in green, while the fallback folder is on screen', () => {
    const degraded = canvasBadge({
      state: 'streaming',
      source: { kind: 'inference', state: 'degraded', reason: 'Inference service sent no image for 3 s', details: fallback },
    });
    expect(degraded).toEqual({ text: 'Degraded: showing the fallback folder', tone: 'warn' });
    expect(canvasBadge({ state: 'streaming', source: { kind: 'inference', state: 'failed', details: fallback } })).toEqual({
      text: 'Degraded: showing the fallback folder',
      tone: 'bad',
    });
    expect(canvasBadge({ state: 'holding', source: { kind: 'folder', state: 'degraded' } })).toEqual({
      text: 'Degraded: holding the last frame',
      tone: 'warn',
    });
    expect(canvasBadge({ state: 'starting', source: { kind: 'inference', state: 'degraded' } })).toMatchObject({ tone: 'bad' });
  });

  it("keeps an operator's pause as it is", () => {
    expect(canvasBadge({ state: 'paused', source: { kind: 'inference', state: 'degraded', details: fallback } }).text).toBe('Paused');
  });
});
