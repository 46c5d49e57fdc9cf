/**
 * What the operator console hears, in one place: canvas and playlist events, reshaped into the
 * event bus's own kinds. Frames and refusals are left out (jobs report those).
 */
import type { RegistryEvent } from '../canvas/registry.js';
import type { PlaylistManagerEvent } from '../playlist/playlist-manager.js';
import type { EaselEvent, EventBus } from './events.js';

export function canvasFeedEvent(event: RegistryEvent): EaselEvent | undefined {
  switch (event.type) {
    case 'state':
      return { type: 'canvas', slug: event.slug, state: event.state };
    case 'source':
      return { type: 'canvas', slug: event.slug, source: event.kind };
    case 'removed':
      return { type: 'canvas', slug: event.slug, removed: event.reason };
    case 'created':
      return { type: 'canvas', slug: event.slug, created: 'display' };
    default:
      return undefined;
  }
}

export function playlistFeedEvent(event: PlaylistManagerEvent): EaselEvent {
  const { type, ...detail } = event;
  if (event.type === 'file') return { type: 'playlist', name: event.change.name, event: `file-${event.change.type}`, detail };
  return { type: 'playlist', name: event.playlist, event: type, ...(event.type === 'error' ? { slug: event.slug } : {}), detail };
}

export interface EventFeedSources {
  canvases: { onEvent(listener: (event: RegistryEvent) => void): () => void };
  playlists: { onEvent(listener: (event: PlaylistManagerEvent) => void): () => void };
}

/** Feeds `events` from the canvases and playlists; returns the function that stops it. */
export function connectEventFeed(events: EventBus, sources: EventFeedSources): () => void {
  const stops = [
    sources.canvases.onEvent((event) => {
      const fed = canvasFeedEvent(event);
      if (fed) events.emit(fed);
    }),
    sources.playlists.onEvent((event) => events.emit(playlistFeedEvent(event))),
  ];
  return () => {
    for (const stop of stops) stop();
  };
}
