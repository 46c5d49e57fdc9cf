import { describe, expect, it } from 'vitest';
import { decodeFrameMessage, encodeFrameMessage, encodeSeedMessage, type FrameHeader } from './frame-message.js';

const header: FrameHeader = {
  type: 'frame',
  imageId: 'folder-1a2b',
  seq: 42,
  timestamp: '2026-11-21T12:00:00.250Z',
  mime: 'image/webp',
  width: 1024,
  height: 768,
  source: 'folder',
  prompt: 'ünïcödé ✓',
};

describe('frame messages', () => {
  it('round-trips a header and image bytes', () => {
    const image = Uint8Array.from([1, 2, 3, 250, 0, 9]);
    const message = encodeFrameMessage(header, image);
    const decoded = decodeFrameMessage(message);
    expect(decoded.header).toEqual(header);
    expect(Array.from(decoded.image)).toEqual([1, 2, 3, 250, 0, 9]);
  });

  it('writes the header length as 4 big-endian bytes counting UTF-8 bytes, not characters', () => {
    const message = encodeFrameMessage(header, new Uint8Array(0));
    const json = Buffer.from(JSON.stringify(header), 'utf8');
    expect(json.length).toBeGreaterThan(JSON.stringify(header).length);
    expect(Buffer.from(message).readUInt32BE(0)).toBe(json.length);
    expect(Buffer.from(message.subarray(4)).equals(json)).toBe(true);
  });

  it('decodes from a view that does not start at its buffer offset 0', () => {
    const message = encodeFrameMessage(header, Uint8Array.from([7]));
    const padded = new Uint8Array(message.length + 3);
    padded.set(message, 3);
    expect(decodeFrameMessage(padded.subarray(3)).header.seq).toBe(42);
  });

  it('refuses a truncated message', () => {
    const message = encodeFrameMessage(header, new Uint8Array(10));
    expect(() => decodeFrameMessage(message.subarray(0, 20))).toThrow(RangeError);
    expect(() => decodeFrameMessage(new Uint8Array(2))).toThrow(/at least 4 bytes/);
  });

  it('writes the seed JSON shape with exactly timestamp, image and image_id, in that order', () => {
    const text = encodeSeedMessage('2026-11-21T12:00:00.250Z', Uint8Array.from([0xff, 0xd8, 0xff]), 'x-1');
    expect(text).toBe('{"timestamp":"2026-11-21T12:00:00.250Z","image":"/9j/","image_id":"x-1"}');
  });
});
