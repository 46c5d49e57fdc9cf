import { describe, expect, it } from 'vitest';
import { decodeRelayMessage, encodeRelayMessage, MAX_RELAY_BYTES, RelayMessageError, type RelayMessage } from './frame-relay.js';

const message = (over: Partial<RelayMessage> = {}): RelayMessage => ({
  node: 'node-a',
  slug: 'wall',
  epoch: 1_700_000_000_123,
  seq: 42,
  slotTime: 1_700_000_000_000,
  presentAt: 1_700_000_000_300,
  madeAt: '2023-11-14T22:13:20.000Z',
  imageId: 'img-1',
  source: 'folder',
  prompt: 'a lighthouse',
  renditions: [
    {
      key: 'webp:32x32:inside',
      encoded: { data: Buffer.from([1, 2, 3, 0, 255]), format: 'webp', mime: 'image/webp', width: 32, height: 32 },
    },
    {
      key: 'jpeg:16x16:inside:2x1@1,1',
      encoded: {
        data: Buffer.from('EZR1 bytes that look like a header'),
        format: 'jpeg',
        mime: 'image/jpeg',
        width: 16,
        height: 16,
        tile: { column: 1, row: 1 },
      },
    },
  ],
  ...over,
});

describe('relay message', () => {
  it('round-trips every field and the rendition bytes exactly', () => {
    const m = message();
    expect(decodeRelayMessage(encodeRelayMessage(m))).toEqual(m);
  });

  it('round-trips a frame without presentAt or prompt', () => {
    const m = message({ presentAt: undefined, prompt: undefined });
    const back = decodeRelayMessage(encodeRelayMessage(m));
    expect(back.presentAt).toBeUndefined();
    expect(back.prompt).toBeUndefined();
    expect(back.seq).toBe(42);
  });

  it('refuses to encode a message over the size limit', () => {
    const big = Buffer.alloc(MAX_RELAY_BYTES);
    const m = message({ renditions: [{ key: 'k', encoded: { data: big, format: 'webp', mime: 'image/webp', width: 1, height: 1 } }] });
    expect(() => encodeRelayMessage(m)).toThrow(RelayMessageError);
  });

  it('throws only RelayMessageError for malformed input', () => {
    const good = encodeRelayMessage(message());
    const header = (h: unknown) => {
      const head = Buffer.from(JSON.stringify(h));
      const prefix = Buffer.alloc(8);
      prefix.write('EZR1', 0, 'latin1');
      prefix.writeUInt32BE(head.length, 4);
      return Buffer.concat([prefix, head]);
    };
    const bad: Buffer[] = [
      Buffer.alloc(0),
      Buffer.from('hello'),
      Buffer.from('EZR1'),
      Buffer.concat([Buffer.from('EZR1'), Buffer.from([0xff, 0xff, 0xff, 0xff])]),
      good.subarray(0, good.length - 1), // cut short
      Buffer.concat([good, Buffer.from([0])]), // trailing
      header('not an object'),
      header(null),
      header({ ...JSON.parse(good.toString('utf8', 8, 8 + good.readUInt32BE(4))), seq: -1 }),
      header({ node: 'a', slug: 'b', imageId: 'c', source: 'd', madeAt: 'e', epoch: 1, seq: 1, slotTime: 0, renditions: [] }),
      header({ node: 'a', slug: 'b', imageId: 'c', source: 'd', madeAt: 'e', epoch: 1, seq: 1, slotTime: 0, renditions: [null] }),
      header({
        node: 'a',
        slug: 'b',
        imageId: 'c',
        source: 'd',
        madeAt: 'e',
        epoch: 1,
        seq: 1,
        slotTime: 0,
        renditions: [{ key: 'k', format: 'gif', mime: 'x', width: 1, height: 1, bytes: 1 }],
      }),
      Buffer.concat([Buffer.from('EZR1'), Buffer.from([0, 0, 0, 3]), Buffer.from('{x}')]),
    ];
    for (const b of bad) expect(() => decodeRelayMessage(b), b.toString('latin1').slice(0, 40)).toThrow(RelayMessageError);
  });

  it('refuses an oversized buffer before reading it', () => {
    const huge = Buffer.alloc(MAX_RELAY_BYTES + 1);
    huge.write('EZR1', 0, 'latin1');
    expect(() => decodeRelayMessage(huge)).toThrow(/over the limit/);
  });
});
