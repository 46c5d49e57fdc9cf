import type { EncodedImage } from '../stream/renderer.js';
import { encodeFrameMessage, encodeSeedMessage } from '../stream/frame-message.js';
import type { SourceImage } from '../stream/source.js';

export type DisplayMode = 'binary' | 'json';

/**
 * A rendered frame of one canvas: its renditions, and the wire messages built from them on
 * first use and then shared by every display that wants the same rendition and mode.
 */
export interface Frame {
  /** Given when the frame is published; 0 while it waits in the render-ahead queue. */
  seq: number;
  readonly imageId: string;
  readonly timestamp: string;
  readonly source: string;
  readonly prompt: string | undefined;
  /** Kept so a display that wants a rendition made after the fact can still get one. */
  readonly image: SourceImage;
  readonly renditions: Map<string, EncodedImage>;
  readonly messages: Map<string, Buffer | string>;
}

export function createFrame(image: SourceImage, renditions: Map<string, EncodedImage>): Frame {
  return {
    seq: 0,
    imageId: image.id,
    timestamp: new Date(image.createdAt).toISOString(),
    source: image.source,
    prompt: image.prompt,
    image,
    renditions,
    messages: new Map(),
  };
}

/** The message for one rendition and mode, built once; undefined when the rendition is not made yet. */
export function messageFor(frame: Frame, key: string, mode: DisplayMode): Buffer | string | undefined {
  const memoKey = `${mode}|${key}`;
  const memo = frame.messages.get(memoKey);
  if (memo !== undefined) return memo;
  const encoded = frame.renditions.get(key);
  if (!encoded) return undefined;
  const message =
    mode === 'json'
      ? encodeSeedMessage(frame.timestamp, encoded.data, frame.imageId)
      : encodeFrameMessage(
          {
            type: 'frame',
            imageId: frame.imageId,
            seq: frame.seq,
            timestamp: frame.timestamp,
            mime: encoded.mime,
            width: encoded.width,
            height: encoded.height,
            source: frame.source,
            ...(frame.prompt !== undefined ? { prompt: frame.prompt } : {}),
          },
          encoded.data,
        );
  frame.messages.set(memoKey, message);
  return message;
}
