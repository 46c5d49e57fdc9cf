import { describe, expect, it } from 'vitest';
import { encodeMjpegPart, MJPEG_BOUNDARY, MJPEG_CONTENT_TYPE } from './mjpeg-part.js';

describe('encodeMjpegPart', () => {
  it('frames the JPEG with its boundary, headers and Content-Length, and ends the line after it', () => {
    const jpeg = Uint8Array.from([0xff, 0xd8, 0x0d, 0x0a, 0x2d, 0x2d, 0xff, 0xd9]);
    const part = Buffer.from(encodeMjpegPart(jpeg, 42, '2026-01-01T00:00:00.000Z'));
    const text = part.toString('latin1');
    const head = text.slice(0, text.indexOf('\r\n\r\n') + 4);
    expect(head).toBe(
      `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: 8\r\nX-Easel-Seq: 42\r\nX-Timestamp: 2026-01-01T00:00:00.000Z\r\n\r\n`,
    );
    expect([...part.subarray(head.length, head.length + 8)]).toEqual([...jpeg]);
    expect(part.subarray(head.length + 8).toString('latin1')).toBe('\r\n');
    expect(MJPEG_CONTENT_TYPE).toBe(`multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`);
  });
});
