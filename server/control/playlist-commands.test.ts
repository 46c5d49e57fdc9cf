import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createRegistry } from '../canvas/registry.js';
import { loadConfig } from '../config.js';
import { createPlaylistManager } from '../playlist/playlist-manager.js';
import { createCommands } from './commands.js';
import { createEventBus, type EaselEvent } from './events.js';
import { createJobTracker } from './jobs.js';
import { withPlaylists } from './playlist-commands.js';
import { quickRenderer } from '../../test/support/test-renderer.js';

/** Commands, playlists and the registry built in the server's order, with no setter between them. */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const HTTP = { via: 'http', who: '127.0.0.1' } as const;

async function setUp() {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-playlist-commands-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(path.join(dir, 'hush.yaml'), 'steps:\n  - pause:\n    duration: 1m\n');
  const config = loadConfig({
    env: { EASEL_CANVASES: '[{"slug": "wall"}]', EASEL_FOLDER: dir, EASEL_PLAYLISTS_DIR: dir },
    argv: [],
    configDir: dir,
  });
  const clock = new FakeClock(Date.now());
  const { logger, lines } = captureLogs();
  const renderer = quickRenderer();
  const events = createEventBus();
  const heard: EaselEvent[] = [];
  events.subscribe((e) => heard.push(e));
  const registry = createRegistry({ config, renderer, clock, logger });
  cleanups.push(() => registry.closeAll());
  registry.startDeclared();
  const canvasCommands = createCommands({
    registry,
    config,
    events,
    jobs: createJobTracker({ events, canvases: registry, clock }),
    inference: undefined,
    clock,
    logger,
  });
  const playlists = createPlaylistManager({
    dir,
    commands: canvasCommands,
    onFrame: registry.onFrame,
    canvases: registry,
    clock,
    logger,
    store: { rescanIntervalMs: 24 * 3_600_000 },
  });
  cleanups.push(() => playlists.close());
  await playlists.ready;
  const commands = withPlaylists(canvasCommands, { playlists, registry, events, logger });
  return { registry, playlists, commands, heard, lines };
}

describe('withPlaylists', () => {
  it('starts a playlist as a source, and refuses one without a name', async () => {
    const { commands, playlists, heard } = await setUp();
    await commands.setSource('wall', { type: 'playlist', name: 'hush' }, HTTP);
    expect(playlists.status('wall')).toMatchObject({ playlist: 'hush', state: 'running' });
    expect(commands.get('wall').state).toBe('paused');
    expect(heard).toContainEqual(expect.objectContaining({ type: 'command', slug: 'wall', command: 'playlist', detail: { name: 'hush' } }));
    await expect(commands.setSource('wall', { type: 'playlist' } as never, HTTP)).rejects.toMatchObject({
      code: 'EASEL_ERR_REQUEST_INVALID',
    });
    await expect(commands.startPlaylist('wal', 'hush', HTTP)).rejects.toMatchObject({ code: 'EASEL_ERR_NOT_FOUND' });
  });

  it('keeps the playlist of a declared canvas it refuses to remove, and stops the one of a canvas it removes first', async () => {
    const { commands, playlists, registry, lines } = await setUp();
    await commands.startPlaylist('wall', 'hush', HTTP);
    await expect(commands.removeCanvas('wall', HTTP)).rejects.toMatchObject({ code: 'EASEL_ERR_CANVAS_DECLARED' });
    expect(playlists.status('wall')).not.toBeNull();

    registry.getOrCreate('guest');
    await commands.startPlaylist('guest', 'hush', HTTP);
    await commands.removeCanvas('guest', HTTP);
    expect(playlists.status('guest')).toBeNull();
    // Stopped while the canvas was still there: resuming it failed nowhere.
    expect(lines.filter((l) => (l.level as number) >= 40 && String(l.msg).startsWith('Playlist'))).toEqual([]);
  });

  it('stops the playlist of a canvas the registry removes on its own', async () => {
    const { commands, playlists, registry } = await setUp();
    registry.getOrCreate('visitor');
    await commands.startPlaylist('visitor', 'hush', HTTP);
    await registry.remove('visitor');
    await vi.waitFor(() => expect(playlists.status('visitor')).toBeNull());
  });
});
