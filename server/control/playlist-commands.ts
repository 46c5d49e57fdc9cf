/**
 * The playlist commands, on top of the canvas commands playlists themselves drive: built after
 * the playlist manager, so commands and playlists never need each other at once.
 */
import type { Registry } from '../canvas/registry.js';
import type { Logger } from '../logger.js';
import type { PlaylistManager } from '../playlist/playlist-manager.js';
import type { CanvasCommands, CommandOrigin } from './command-types.js';
import { announcer, type CanvasRemoval, type SourceCommands } from './commands.js';
import type { EventBus } from './events.js';
import { EaselError } from '../errors.js';

export interface PlaylistCommandsOptions {
  playlists: Pick<PlaylistManager, 'start' | 'stop'>;
  registry: Pick<Registry, 'isDeclared'>;
  events: EventBus;
  logger: Logger;
}

export type Commands = CanvasCommands & CanvasRemoval;

const invalidName = () =>
  new EaselError('EASEL_ERR_REQUEST_INVALID', 'name: must name a playlist', {
    hint: 'Send {"type": "playlist", "name": "evening-show"}',
    details: { field: 'name' },
  });

/**
 * @example
 * const playlists = createPlaylistManager({ commands: canvasCommands, ... });
 * const commands = withPlaylists(canvasCommands, { playlists, registry, events, logger });
 * await commands.setSource('left-canva', { type: 'playlist', name: 'evening-show' }, origin);
 */
export function withPlaylists(inner: SourceCommands, options: PlaylistCommandsOptions): Commands {
  const { playlists, registry } = options;
  const announce = announcer(options.logger, options.events);

  async function startPlaylist(slug: string, name: string, origin: CommandOrigin): Promise<void> {
    inner.get(slug);
    await playlists.start(slug, name, origin);
    announce(slug, 'playlist', origin, { name });
  }

  return {
    ...inner,
    startPlaylist,

    stopPlaylist(slug, origin) {
      inner.get(slug);
      playlists.stop(slug);
      announce(slug, 'playlist-stop', origin);
    },

    async setSource(slug, source, origin) {
      if (source.type !== 'playlist') return inner.setSource(slug, source, origin);
      inner.get(slug);
      const name = (source as { name?: unknown }).name;
      if (typeof name !== 'string' || !name) throw invalidName();
      return startPlaylist(slug, name, origin);
    },

    async removeCanvas(slug, origin) {
      inner.get(slug);
      // Stopped while its canvas still exists, so a paused step resumes it cleanly; a declared canvas is refused below, playlist and all.
      if (!registry.isDeclared(slug)) playlists.stop(slug);
      await inner.removeCanvas(slug, origin);
    },
  };
}
