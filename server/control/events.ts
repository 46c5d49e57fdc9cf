import type { CanvasState } from '../canvas/canvas.js';
import type { CommandOrigin, JobSnapshot } from './command-types.js';

/** What the operator console and `GET /api/events` hear about. */
export type EaselEvent =
  | { type: 'canvas'; slug: string; state?: CanvasState; source?: string; removed?: 'idle' | 'operator'; created?: 'display' }
  | { type: 'command'; slug: string; command: string; origin: CommandOrigin; detail?: Record<string, unknown> }
  | { type: 'job'; job: JobSnapshot }
  | { type: 'playlist'; slug?: string; name: string; event: string; detail?: Record<string, unknown> }
  | { type: 'display'; slug: string; event: 'connected' | 'lost'; display: number; address: string; displays: number; code?: number }
  /** A canvas's source went into trouble (`degraded`, `failed`) or out of it; `state` is its status then. */
  | { type: 'source'; slug: string; health: 'down' | 'up'; state: string; code?: string; reason?: string };

export interface EventBus {
  emit(event: EaselEvent): void;
  /** Returns the unsubscribe function. A listener that throws is removed, never the emitter's problem. */
  subscribe(listener: (event: EaselEvent) => void): () => void;
  readonly listeners: number;
}

export function createEventBus(): EventBus {
  const listeners = new Set<(event: EaselEvent) => void>();
  return {
    emit(event) {
      for (const listener of [...listeners]) {
        try {
          listener(event);
        } catch {
          listeners.delete(listener);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    get listeners() {
      return listeners.size;
    },
  };
}
