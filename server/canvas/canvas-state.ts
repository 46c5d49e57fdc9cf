import type { SourceStatus } from '../stream/source.js';
import type { Frame } from './frame.js';

export type CanvasState = 'starting' | 'streaming' | 'holding' | 'paused' | 'closed';

export type CanvasEvent =
  | { type: 'state'; slug: string; state: CanvasState }
  | { type: 'source'; slug: string; kind: string }
  | { type: 'frame'; slug: string; frame: Frame };

export interface CanvasSnapshot {
  slug: string;
  state: CanvasState;
  fps: number;
  width: number;
  height: number;
  source: { kind: string } & SourceStatus;
  displays: number;
  /** An operator's still holding the screen, and until when (null: until the next command). */
  holding: { until: string | null } | null;
  /** `timestamp`: when it is (or was) on screen; `madeAt`: when its image was loaded or generated. */
  lastFrame: { seq: number; imageId: string; timestamp: string; madeAt: string; source: string } | null;
  /** `relayed`: frames shown here that another node produced (cluster mode). */
  counters: { published: number; held: number; rejected: number; relayed: number; skippedSends: number; stalledClosed: number };
}

/** What a snapshot says of the frame on screen. */
export const describeFrame = (frame: Frame | undefined): CanvasSnapshot['lastFrame'] =>
  frame
    ? {
        seq: frame.seq,
        imageId: frame.imageId,
        timestamp: new Date(frame.presentAt ?? frame.slotTime).toISOString(),
        madeAt: frame.madeAt,
        source: frame.source,
      }
    : null;

/**
 * What a canvas is doing as an operator sees it, and who hears of it. The rules: a canvas starts,
 * streams while slots find frames, holds when one finds none; a paused canvas stays paused even
 * when a frame is stepped out; nothing leaves closed, and a closed canvas tells nobody anything.
 */
export function createCanvasStatus(slug: string) {
  let state: CanvasState = 'starting';
  const listeners = new Set<(event: CanvasEvent) => void>();

  const emit = (event: CanvasEvent) => {
    for (const listener of listeners) listener(event);
  };
  const set = (next: CanvasState) => {
    if (next === state) return;
    state = next;
    emit({ type: 'state', slug, state });
  };

  return {
    get state(): CanvasState {
      return state;
    },

    /** True unless an operator paused the canvas or it closed: its slots should run. */
    get live(): boolean {
      return state !== 'paused' && state !== 'closed';
    },

    /** Listens to state changes, source changes and shown frames; returns the unsubscribe function. */
    listen(listener: (event: CanvasEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    sourceChanged(kind: string): void {
      emit({ type: 'source', slug, kind });
    },

    /** A frame went on screen. */
    shown(frame: Frame): void {
      if (state !== 'paused') set('streaming');
      emit({ type: 'frame', slug, frame });
    },

    /** A slot found no frame to show. */
    missed(): void {
      if (state === 'streaming') set('holding');
    },

    /** False when it was paused or closed already. */
    pause(): boolean {
      if (!this.live) return false;
      set('paused');
      return true;
    },

    /** False when it was not paused. `hasFrame`: something is on screen to hold. */
    resume(hasFrame: boolean): boolean {
      if (state !== 'paused') return false;
      set(hasFrame ? 'holding' : 'starting');
      return true;
    },

    /** False when it was closed already; listeners hear 'closed' and then nothing more. */
    close(): boolean {
      if (state === 'closed') return false;
      set('closed');
      listeners.clear();
      return true;
    },
  };
}

export type CanvasStatus = ReturnType<typeof createCanvasStatus>;
