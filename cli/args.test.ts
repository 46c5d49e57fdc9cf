import { describe, expect, it } from 'vitest';
import { parseCliArgs, UsageError } from './args.js';

describe('parseCliArgs', () => {
  it('defaults to http://localhost:8000 and no token', () => {
    expect(parseCliArgs(['status'], {})).toEqual({ command: { name: 'status', json: false }, server: 'http://localhost:8000' });
  });

  it('takes the server from --server over EASEL_URL, and the token from EASEL_OPERATOR_TOKEN', () => {
    const env = { EASEL_URL: 'http://wall.local:8000/', EASEL_OPERATOR_TOKEN: 't0k' };
    expect(parseCliArgs(['next', 'a'], env)).toEqual({
      command: { name: 'next', slug: 'a' },
      server: 'http://wall.local:8000',
      token: 't0k',
    });
    expect(parseCliArgs(['next', 'a', '--server', 'https://proxy/easel/'], env).server).toBe('https://proxy/easel');
    expect(parseCliArgs(['next', 'a'], { EASEL_OPERATOR_TOKEN: '' })).not.toHaveProperty('token');
  });

  it('reads remove SLUG', () => {
    expect(parseCliArgs(['remove', 'kiosk-9'], {}).command).toEqual({ name: 'remove', slug: 'kiosk-9' });
    expect(() => parseCliArgs(['remove'], {})).toThrow('Usage: easel remove SLUG');
  });

  it('reads a prompt with its seed and steps, joining unquoted words', () => {
    expect(parseCliArgs(['prompt', 'lobby', 'a', 'red', 'boat', '--seed', '7', '--steps', '2'], {}).command).toEqual({
      name: 'prompt',
      slug: 'lobby',
      prompt: 'a red boat',
      seed: 7,
      steps: 2,
    });
    expect(parseCliArgs(['prompt', 'lobby', '--', '-dark- harbour'], {}).command).toMatchObject({ prompt: '-dark- harbour' });
  });

  it('reads status with a slug and --json, and the playlist commands', () => {
    expect(parseCliArgs(['status', 'lobby', '--json'], {}).command).toEqual({ name: 'status', slug: 'lobby', json: true });
    expect(parseCliArgs(['playlist', 'lobby', 'evening'], {}).command).toEqual({ name: 'playlist', slug: 'lobby', playlist: 'evening' });
    expect(parseCliArgs(['playlist', 'lobby', '--stop'], {}).command).toEqual({ name: 'playlist-stop', slug: 'lobby' });
  });

  it('answers --help even when the server URL is bad', () => {
    expect(parseCliArgs(['--help'], { EASEL_URL: 'nonsense' }).command).toEqual({ name: 'help' });
    expect(parseCliArgs(['help'], {}).command).toEqual({ name: 'help' });
  });

  it('reads timelapse with its range, rate, width and archive folder; times without a zone are local', () => {
    const argv = ['timelapse', '--canvas', 'wall-1', '--from', '2026-12-01T18:00', '--to', '2026-12-02T02:00Z', 'night.mp4'];
    expect(parseCliArgs([...argv, '--fps', '24', '--width', '1280', '--archive', '/srv/archive'], {}).command).toEqual({
      name: 'timelapse',
      canvas: 'wall-1',
      from: new Date(2026, 11, 1, 18, 0).getTime(),
      to: Date.UTC(2026, 11, 2, 2, 0),
      fps: 24,
      width: 1280,
      archive: '/srv/archive',
      out: 'night.mp4',
    });
    expect(parseCliArgs(argv, {}).command).toMatchObject({ fps: 12 });
    expect(parseCliArgs(argv, {}).command).not.toHaveProperty('archive');
  });

  const lapse = (...more: string[]) => ['timelapse', '--canvas', 'wall-1', '--from', '2026-12-01', '--to', '2026-12-02', ...more];

  it.each([
    [['timelapse', '--from', '2026-12-01', '--to', '2026-12-02', 'a.mp4'], 'Missing --canvas: Usage: easel timelapse'],
    [['timelapse', '--canvas', 'w', '--to', '2026-12-02', 'a.mp4'], 'Missing --from'],
    [lapse(), 'Usage: easel timelapse --canvas SLUG'],
    [lapse('a.mp4', 'b.mp4'), 'Usage: easel timelapse --canvas SLUG'],
    [
      ['timelapse', '--canvas', 'w', '--from', 'yesterday', '--to', '2026-12-02', 'a.mp4'],
      'Invalid --from "yesterday": expected a time like',
    ],
    [['timelapse', '--canvas', 'w', '--from', '2026-12-01', '--to', '2026-02-30', 'a.mp4'], 'Invalid --to "2026-02-30"'],
    [
      ['timelapse', '--canvas', 'w', '--from', '2026-12-02', '--to', '2026-12-01', 'a.mp4'],
      '--from "2026-12-02" is not before --to "2026-12-01"',
    ],
    [['timelapse', '--canvas', 'Wall 1', '--from', '2026-12-01', '--to', '2026-12-02', 'a.mp4'], 'Invalid canvas slug "Wall 1"'],
    [lapse('--fps', '0', 'a.mp4'), 'Invalid --fps "0": expected a number from 1 to 120'],
    [lapse('--fps', 'fast', 'a.mp4'), 'Invalid --fps "fast"'],
    [lapse('--width', '8', 'a.mp4'), 'Invalid --width "8": expected a whole number from 16'],
    [lapse('--width', '10000', 'a.mp4'), 'Invalid --width "10000": expected a whole number from 16 to 8192'],
    [lapse('--archive', '', 'a.mp4'), '--archive is empty'],
    [lapse('night.avi'), 'The video "night.avi" must end in .mp4, .mov, .mkv'],
    [['status', '--canvas', 'w'], 'The option --canvas goes only with "easel timelapse"'],
    [['next', 'a', '--fps', '3'], 'The option --fps goes only with "easel timelapse"'],
  ])('refuses timelapse mistakes %j: %s', (argv, message) => {
    expect(() => parseCliArgs(argv, {})).toThrow(UsageError);
    expect(() => parseCliArgs(argv, {})).toThrow(message);
  });

  it.each([
    [[], 'Missing a command'],
    [['jump'], 'Unknown command "jump"'],
    [['next'], 'Usage: easel next SLUG'],
    [['next', 'a', 'b'], 'Usage: easel next SLUG'],
    [['next', 'Lobby'], 'Invalid canvas slug "Lobby"'],
    [['prompt', 'a'], 'Usage: easel prompt SLUG "text"'],
    [['prompt', 'a', '  '], 'The prompt is empty'],
    [['prompt', 'a', 'x', '--seed', 'abc'], 'Invalid --seed "abc": expected a whole number from 0'],
    [['prompt', 'a', 'x', '--steps', '0'], 'Invalid --steps "0": expected a whole number from 1'],
    [['next', 'a', '--seed', '3'], 'The option --seed goes only with "easel prompt"'],
    [['status', '--stop'], 'The option --stop goes only with "easel playlist SLUG --stop"'],
    [['next', 'a', '--json'], 'The option --json goes only with "easel status"'],
    [['playlist', 'a'], 'Usage: easel playlist SLUG NAME'],
    [['status', '--frob'], "Unknown option '--frob'"],
    [['status', '--server', 'ftp://x'], 'Invalid server URL "ftp://x": expected http:// or https://'],
    [['status', '--server', 'localhost'], 'Invalid server URL "localhost"'],
  ])('refuses %j: %s', (argv, message) => {
    expect(() => parseCliArgs(argv, {})).toThrow(UsageError);
    expect(() => parseCliArgs(argv, {})).toThrow(message);
  });
});
