import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../config.js';
import { parsePlaylist } from './parse-playlist.js';

const DIR = path.join(PROJECT_ROOT, 'config/playlists');
const load = (name: string) => {
  const file = path.join(DIR, name);
  const parsed = parsePlaylist(readFileSync(file, 'utf8'), { file });
  if (!parsed.ok) throw parsed.error;
  return parsed.playlist;
};

describe('the example playlists in config/playlists', () => {
  it('all parse', () => {
    const files = readdirSync(DIR).filter((f) => /\.ya?ml$/.test(f));
    expect(files).toEqual(expect.arrayContaining(['evening-show.yaml', 'gallery-loop.yaml']));
    for (const file of files) expect(() => load(file)).not.toThrow();
  });

  it('evening-show loops prompts on the default canvases, and starts at 18:30 once its at line is uncommented', () => {
    const show = load('evening-show.yaml');
    expect(show).toMatchObject({ name: 'evening-show', canvases: ['left-canva', 'right-canva'], loop: true });
    expect(show.at ?? []).toEqual([]); // a plain npm start never changes the wall by itself
    expect(show.steps.some((s) => s.type === 'prompt')).toBe(true);
    const file = path.join(DIR, 'evening-show.yaml');
    const scheduled = parsePlaylist(readFileSync(file, 'utf8').replace('# at: "18:30"', 'at: "18:30"'), { file });
    expect(scheduled.ok && scheduled.playlist.at).toEqual(['18:30']);
  });

  it('gallery-loop alternates the bundled assets with a still and a pause, all found on disk', () => {
    const gallery = load('gallery-loop.yaml');
    expect(gallery.loop).toBe(true);
    expect(new Set(gallery.steps.map((s) => s.type))).toEqual(new Set(['folder', 'still', 'pause']));
    for (const step of gallery.steps) {
      if (step.type === 'folder') expect(statSync(step.path).isDirectory() && step.path === path.join(PROJECT_ROOT, 'assets')).toBe(true);
      if (step.type === 'still') expect(existsSync(step.path)).toBe(true);
    }
  });
});
