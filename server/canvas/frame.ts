import type { EncodedImage } from '../stream/renderer.js';
import { encodeFrameMessage, encodeSeedMessage } from '../stream/frame-message.js';
import { encodeMjpegPart } from '../stream/mjpeg-part.js';
import type { SourceImage } from '../stream/source.js';

/** `mjpeg`: a reader of the MJPEG stream (transport/mjpeg-route.ts), sent multipart parts over HTTP. */
export type DisplayMode = 'binary' | 'json' | 'mjpeg';

/**
 * A rendered frame of one canvas: its renditions, and the wire messages built from them on
 * first use and then shared by every display that wants the same rendition and mode.
 */
export interface Frame {
  /** Given when the frame is published; 0 while it waits in the render-ahead queue. */
  seq: number;
  /** Epoch ms of the slot it was published in; set with `seq`. */
  slotTime: number;
  /** Epoch ms at which every screen shows it (slot time + the canvas's lead); undefined when the canvas does not sync. */
  presentAt: number | undefined;
  readonly imageId: string;
  /** ISO-8601: when the image was loaded or generated. */
  readonly madeAt: string;
  readonly source: string;
  readonly prompt: string | undefined;
  /** Kept so a display that wants a rendition made after the fact can still get one. */
  readonly image: SourceImage;
  readonly renditions: Map<string, EncodedImage>;
  readonly messages: Map<string, Uint8Array | string>;
}

export function createFrame(image: SourceImage, renditions: Map<string, EncodedImage>): Frame {
  return {
    seq: 0,
    slotTime: 0,
    presentAt: undefined,
    imageId: image.id,
    madeAt: new Date(image.createdAt).toISOString(),
    source: image.source,
    prompt: image.prompt,
    image,
    renditions,
    messages: new Map(),
  };
}

/** Numbers the frame and fixes when it is meant to be on screen; its messages are built after this. */
export function stampFrame(frame: Frame, seq: number, slotTime: number, leadMs: number | undefined): void {
  frame.seq = seq;
  frame.slotTime = slotTime;
  frame.presentAt = leadMs === undefined ? undefined : slotTime + leadMs;
}

/** The message for one rendition and mode, built once; undefined when the rendition is not made yet. */
export function messageFor(frame: Frame, key: string, mode: DisplayMode): Uint8Array | string | undefined {
  const memoKey = `${mode}|${key}`;
  const memo = frame.messages.get(memoKey);
  if (memo !== undefined) return memo;
  const encoded = frame.renditions.get(key);
  if (!encoded) return undefined;
  if (mode === 'mjpeg') {
    const part = encodeMjpegPart(encoded.data, frame.seq, new Date(frame.presentAt ?? frame.slotTime).toISOString());
    frame.messages.set(memoKey, part);
    return part;
  }
  const message =
    mode === 'json'
      ? // Seed clients show a frame on arrival: its time is the slot it is sent in.
        encodeSeedMessage(new Date(frame.slotTime).toISOString(), encoded.data, frame.imageId)
      : encodeFrameMessage(
          {
            type: 'frame',
            imageId: frame.imageId,
            seq: frame.seq,
            // The time a screen shows is when the frame is on screen, not when it was made.
            timestamp: new Date(frame.presentAt ?? frame.slotTime).toISOString(),
            madeAt: frame.madeAt,
            ...(frame.presentAt !== undefined ? { presentAt: frame.presentAt } : {}),
            mime: encoded.mime,
            width: encoded.width,
            height: encoded.height,
            source: frame.source,
            ...(frame.prompt !== undefined ? { prompt: frame.prompt } : {}),
            ...(encoded.tile ? { tile: encoded.tile } : {}),
          },
          encoded.data,
        );
  frame.messages.set(memoKey, message);
  return message;
}
