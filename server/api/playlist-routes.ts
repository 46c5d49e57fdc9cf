import type { PlaylistManager } from '../playlist/playlist-manager.js';
import { EaselError } from '../errors.js';
import type { createApi } from './http.js';

/** `GET|PUT|DELETE /api/playlists/:name` and `GET /api/playlists`, over the playlist store. */
export function registerPlaylistRoutes(api: ReturnType<typeof createApi>, playlists: PlaylistManager): void {
  const { store } = playlists;
  const describe = (name: string) => {
    const entry = store.entry(name);
    if (!entry) {
      throw new EaselError('EASEL_ERR_NOT_FOUND', `No playlist "${name}"`, {
        hint: `Playlists are the *.yaml files in ${store.dir}; GET /api/playlists lists them`,
      });
    }
    const { text, ...rest } = entry;
    return { ...rest, source: text, running: playlists.running().filter((r) => r.playlist === name) };
  };

  api.route('get', '/api/playlists', () => ({
    status: 200,
    json: { playlists: store.list(), schedule: playlists.schedule(), running: playlists.running() },
  }));

  api.route('get', '/api/playlists/:name', (req) => {
    const entry = describe(req.params.name!);
    if (req.headers.accept?.includes('yaml')) return { status: 200, body: entry.source, contentType: 'application/yaml; charset=utf-8' };
    return { status: 200, json: entry };
  });

  api.route(
    'put',
    '/api/playlists/:name',
    async (req) => {
      const existed = store.entry(req.params.name!) !== undefined;
      await store.put(req.params.name!, req.body.toString('utf8'));
      return { status: existed ? 200 : 201, json: describe(req.params.name!) };
    },
    {
      mutating: true,
      maxBody: 256 * 1024,
      accepts: ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/x-yaml', 'application/json'],
    },
  );

  api.route(
    'del',
    '/api/playlists/:name',
    async (req) => {
      await store.delete(req.params.name!);
      return { status: 200, json: { deleted: req.params.name } };
    },
    { mutating: true },
  );
}
