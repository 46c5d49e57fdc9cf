import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isEaselError } from '../errors.js';
import { parsePlaylist, PlaylistError } from './parse-playlist.js';
import type { Playlist } from './playlist-types.js';

const FILE = '/srv/easel/config/playlists/show.yaml';

const parse = (text: string, file = FILE) => parsePlaylist(text, { file });
const ok = (text: string, file = FILE): Playlist => {
  const parsed = parse(text, file);
  if (!parsed.ok) throw new Error(`Expected a valid playlist but received: ${parsed.error.message}`);
  return parsed.playlist;
};
const fail = (text: string, file = FILE): PlaylistError => {
  const parsed = parse(text, file);
  if (parsed.ok) throw new Error('Expected the playlist to be refused');
  return parsed.error;
};

describe('parsePlaylist', () => {
  it('reads every kind of step, with times, days and canvases', () => {
    const playlist = ok(`
name: show
description: Friday nights
canvases: [left-canva, right-canva]
loop: true
at: ["18:30", "9:05"]
days: [sat, fri]
steps:
  - prompt: "a harbour at night"
    negativePrompt: "text"
    seed: 42
    steps: 2
    drift: 0.4
    duration: 45s
  - prompt: stars
    seedWalk: true
    frames: 120
  - folder: ../../assets
    order: shuffle
    duration: 2m
  - folder: /data/slides
    frames: 40
  - still: stills/logo.png
    duration: 30
  - pause:
    duration: 1m30s
`);
    expect(playlist).toEqual({
      name: 'show',
      description: 'Friday nights',
      canvases: ['left-canva', 'right-canva'],
      loop: true,
      at: ['09:05', '18:30'],
      days: ['fri', 'sat'],
      steps: [
        {
          type: 'prompt',
          prompt: 'a harbour at night',
          negativePrompt: 'text',
          seed: 42,
          seedWalk: false,
          steps: 2,
          drift: 0.4,
          hold: { kind: 'time', ms: 45_000 },
          line: 9,
        },
        { type: 'prompt', prompt: 'stars', seedWalk: true, hold: { kind: 'frames', count: 120 }, line: 15 },
        { type: 'folder', path: '/srv/easel/assets', order: 'shuffle', hold: { kind: 'time', ms: 120_000 }, line: 18 },
        { type: 'folder', path: '/data/slides', hold: { kind: 'frames', count: 40 }, line: 21 },
        { type: 'still', path: '/srv/easel/config/playlists/stills/logo.png', hold: { kind: 'time', ms: 30_000 }, line: 23 },
        { type: 'pause', hold: { kind: 'time', ms: 90_000 }, line: 25 },
      ],
    });
  });

  it('names the playlist after its file and defaults loop, canvases and at', () => {
    const playlist = ok('steps:\n  - pause:\n    duration: 5s\n', 'config/playlists/quiet-hour.yml');
    expect(playlist).toEqual({
      name: 'quiet-hour',
      canvases: [],
      loop: false,
      at: [],
      steps: [{ type: 'pause', hold: { kind: 'time', ms: 5000 }, line: 2 }],
    });
  });

  it('resolves relative paths against the folder of a relative file name', () => {
    const playlist = ok('steps:\n  - folder: ../../assets\n    duration: 10s\n', 'config/playlists/show.yaml');
    expect(playlist.steps[0]).toMatchObject({ path: path.resolve('assets') });
  });

  it('takes a single "at" time, a "pause: true", and JSON, which is YAML too', () => {
    const playlist = ok(
      '{"canvases": ["lobby"], "at": "07:00", "steps": [{"pause": true, "duration": "10s"}, {"prompt": "x", "frames": 8}]}',
    );
    expect(playlist).toMatchObject({
      at: ['07:00'],
      canvases: ['lobby'],
      steps: [{ type: 'pause' }, { type: 'prompt', hold: { kind: 'frames', count: 8 } }],
    });
  });

  it('lets steps be reused through YAML anchors', () => {
    const playlist = ok(`
steps:
  - &calm
    prompt: "calm sea"
    duration: 10s
  - still: a.jpg
    duration: 5s
  - *calm
`);
    expect(playlist.steps.map((s) => s.type)).toEqual(['prompt', 'still', 'prompt']);
  });

  it('refuses with an EaselError naming the file, line and column, with a hint', () => {
    const error = fail('steps:\n  - prompt: "x"\n    duration: soon\n');
    expect(error).toBeInstanceOf(PlaylistError);
    expect(isEaselError(error, 'EASEL_ERR_PLAYLIST_INVALID')).toBe(true);
    expect(error.message).toBe(
      `Invalid playlist "${FILE}" at line 3, column 15: "duration" must be a time like "45s", "2m" or 30, not "soon"`,
    );
    expect(error.hint).toMatch(/45s, 2m/);
    expect(error.toJSON()).toMatchObject({ code: 'EASEL_ERR_PLAYLIST_INVALID', file: FILE, line: 3, column: 15 });
  });

  it('reports every problem, in file order, and counts the rest in the message', () => {
    const error = fail('steps:\n  - prompt: "x"\n    duration: 0\nloop: maybe\n');
    expect(error.problems.map((p) => [p.line, p.column])).toEqual([
      [3, 15],
      [4, 7],
    ]);
    expect(error.message).toMatch(/line 3, column 15: .* \(and 1 more problem\)$/);
  });

  const mistakes: Array<[string, string, number, number, RegExp]> = [
    ['YAML that does not parse', 'steps: [1, 2\nloop: true\n', 2, 1, /does not parse/],
    ['a key given twice', 'loop: true\nloop: false\nsteps: []\n', 2, 1, /does not parse: Map keys must be unique/],
    ['an empty file', '# nothing yet\n', 1, 1, /The file is empty/],
    ['a list instead of a map', '- prompt: x\n', 1, 1, /must be a map of keys/],
    [
      'a misspelt top-level key',
      'loop: true\nstepz:\n  - pause:\n    duration: 1s\n',
      2,
      1,
      /Unknown key "stepz" \(did you mean "steps"\?\)/,
    ],
    ['no steps', 'loop: true\n', 1, 1, /has no "steps"/],
    ['an empty step list', 'steps: []\n', 1, 8, /"steps" is empty/],
    ['loop that is not a boolean', 'loop: yes\nsteps: [{pause: , duration: 1s}]\n', 1, 7, /"loop" must be true or false, not "yes"/],
    [
      'a time without quotes read as a number',
      'canvases: [a]\nat: 1830\nsteps: [{pause: , duration: 1s}]\n',
      2,
      5,
      /"at" must be a time of day like "18:30", not 1830/,
    ],
    ['an hour past 23', 'canvases: [a]\nat: ["10:00", "24:00"]\nsteps: [{pause: , duration: 1s}]\n', 2, 15, /not "24:00"/],
    ['at without canvases', 'at: "18:30"\nsteps: [{pause: , duration: 1s}]\n', 1, 1, /no "canvases" say where/],
    ['at with an empty list of canvases', 'canvases: []\nat: "18:30"\nsteps: [{pause: , duration: 1s}]\n', 2, 1, /no "canvases" say where/],
    [
      'a day that is not one',
      'canvases: [a]\nat: "18:30"\ndays: [fri, funday]\nsteps: [{pause: , duration: 1s}]\n',
      3,
      13,
      /"funday", which is not a day/,
    ],
    ['days without at', 'days: [fri]\nsteps: [{pause: , duration: 1s}]\n', 1, 1, /"days" is set without "at"/],
    [
      'a canvas slug with capitals',
      'canvases: [left-canva, Right]\nsteps: [{pause: , duration: 1s}]\n',
      1,
      24,
      /Invalid canvas slug "Right"/,
    ],
    ['a canvas listed twice', 'canvases: [a, a]\nsteps: [{pause: , duration: 1s}]\n', 1, 15, /listed twice/],
    ['canvases that are not a list', 'canvases: left-canva\nsteps: [{pause: , duration: 1s}]\n', 1, 11, /"canvases" must be a list/],
    ['a step that is a bare word', 'steps:\n  - hello\n', 2, 5, /Step 1 must be a map/],
    ['a step of no kind', 'steps:\n  - duration: 5s\n', 2, 5, /Step 1 has no kind/],
    ['a step of two kinds', 'steps:\n  - folder: a\n    still: b.png\n    duration: 5s\n', 3, 5, /Step 1 is both "folder" and "still"/],
    ['a step with no duration', 'steps:\n  - pause:\n    duration: 1s\n  - prompt: x\n', 4, 5, /Step 2 has no "duration" or "frames"/],
    ['a misspelt duration', 'steps:\n  - prompt: x\n    durration: 5s\n', 3, 5, /Unknown key "durration" \(did you mean "duration"\?\)/],
    ['both duration and frames', 'steps:\n  - prompt: x\n    duration: 5s\n    frames: 10\n', 4, 5, /both "duration" and "frames"/],
    ['frames on a still', 'steps:\n  - still: a.png\n    frames: 10\n', 3, 5, /A still step is held for a duration, not frames/],
    ['frames on a pause', 'steps:\n  - pause:\n    frames: 10\n', 3, 5, /A pause step is held for a duration/],
    ['a value after pause', 'steps:\n  - pause: 30s\n', 2, 12, /"pause" takes no value, but has "30s"/],
    ['a duration under a second', 'steps:\n  - still: a.png\n    duration: 500ms\n', 3, 15, /out of range/],
    ['a duration over a day', 'steps:\n  - still: a.png\n    duration: 25h\n', 3, 15, /out of range/],
    [
      'frames that are not whole',
      'steps:\n  - prompt: x\n    frames: 2.5\n',
      3,
      13,
      /"frames" must be a whole number from 1 to 100000, not 2.5/,
    ],
    ['a negative seed', 'steps:\n  - prompt: x\n    seed: -1\n    duration: 5s\n', 3, 11, /"seed" must be a whole number/],
    [
      'inference steps out of range',
      'steps:\n  - prompt: x\n    steps: 51\n    duration: 5s\n',
      3,
      12,
      /"steps" must be a whole number from 0 \(the service default\) to 50, not 51/,
    ],
    [
      'drift above 1',
      'steps:\n  - prompt: x\n    drift: 1.5\n    duration: 5s\n',
      3,
      12,
      /"drift" must be a strength from 0 \(off\) to 1, not 1.5/,
    ],
    [
      'seedWalk that is not a boolean',
      'steps:\n  - prompt: x\n    seedWalk: 3\n    duration: 5s\n',
      3,
      15,
      /"seedWalk" must be true or false/,
    ],
    ['a prompt that is a number', 'steps:\n  - prompt: 42\n    duration: 5s\n', 2, 13, /"prompt" must be text, not 42/],
    [
      'a negative prompt that is a number',
      'steps:\n  - prompt: x\n    negativePrompt: 3\n    duration: 5s\n',
      3,
      21,
      /"negativePrompt" must be text, not 3/,
    ],
    [
      'a prompt over 2000 characters',
      `steps:\n  - prompt: ${'a'.repeat(2001)}\n    duration: 5s\n`,
      2,
      13,
      /2001 characters long, the most is 2000/,
    ],
    [
      'an unknown folder order',
      'steps:\n  - folder: a\n    order: random\n    duration: 5s\n',
      3,
      12,
      /"order" must be "name" or "shuffle", not "random"/,
    ],
    ['a still that is not an image', 'steps:\n  - still: notes.txt\n    duration: 5s\n', 2, 12, /"still" must name an image file/],
    ['a key a folder step does not take', 'steps:\n  - folder: a\n    seed: 4\n    duration: 5s\n', 3, 5, /Unknown key "seed"/],
    [
      'a name that is not the file name',
      'name: other\nsteps: [{pause: , duration: 1s}]\n',
      1,
      7,
      /"name" is "other" but the playlist is saved as "show"/,
    ],
  ];

  it.each(mistakes)('points at %s', (_what, text, line, column, message) => {
    const error = fail(text);
    expect(error.problems[0]).toMatchObject({ line, column });
    expect(error.problems[0]!.message).toMatch(message);
    expect(error.problems[0]!.hint.length).toBeGreaterThan(5);
  });

  it('takes the prompt fields by the same rules as the API and the config', () => {
    const playlist = ok(`steps:\n  - prompt: x\n    negativePrompt: ""\n    seed: ${2 ** 40}\n    steps: 0\n    duration: 5s\n`);
    expect(playlist.steps[0]).toMatchObject({ negativePrompt: '', seed: 2 ** 40, steps: 0 });
  });

  it('refuses a file whose name is not a valid playlist name', () => {
    const error = fail('steps: [{pause: , duration: 1s}]\n', 'config/playlists/My Show.yaml');
    expect(error.message).toMatch(/Invalid playlist name "My Show"/);
    expect(error.hint).toMatch(/lowercase letters/);
  });
});
