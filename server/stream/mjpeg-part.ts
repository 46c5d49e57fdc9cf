/**
 * MJPEG over HTTP: one `multipart/x-mixed-replace` body whose parts are JPEG frames, each
 * replacing the last on screen. It is what browsers show in a plain `<img>`, and what ffmpeg
 * (the mpjpeg demuxer, so OBS's Media Source too), VLC and signage players read from a camera.
 */

/** A token that never occurs in a part's headers; the JPEG bytes are delimited by Content-Length. */
export const MJPEG_BOUNDARY = 'easel-mjpeg-frame';

export const MJPEG_CONTENT_TYPE = `multipart/x-mixed-replace; boundary=${MJPEG_BOUNDARY}`;

/**
 * An empty line between parts, allowed there (readers skip blank lines before a boundary, and
 * what follows a JPEG's end marker is never decoded). Written only to learn whether a stalled
 * reader's queue has emptied: see mjpeg-socket.ts.
 */
export const MJPEG_PADDING = '\r\n';

/**
 * One part: its boundary, headers, the JPEG and the line end after it. Content-Length lets a
 * reader take the image without scanning it for the boundary (ffmpeg does, browsers scan anyway).
 */
export function encodeMjpegPart(jpeg: Uint8Array, seq: number, timestamp: string): Uint8Array {
  const head = Buffer.from(
    `--${MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: ${jpeg.byteLength}\r\n` +
      `X-Easel-Seq: ${seq}\r\nX-Timestamp: ${timestamp}\r\n\r\n`,
    'latin1',
  );
  const part = Buffer.allocUnsafe(head.byteLength + jpeg.byteLength + 2);
  head.copy(part, 0);
  part.set(jpeg, head.byteLength);
  part.write('\r\n', head.byteLength + jpeg.byteLength, 'latin1');
  return part;
}
