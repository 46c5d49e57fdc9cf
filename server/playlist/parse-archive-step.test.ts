import { describe, expect, it } from 'vitest';
import { parsePlaylist, type PlaylistError } from './parse-playlist.js';
import { summarizeStep, type Playlist } from './playlist-types.js';

/** The `archive:` step (docs/playlists.md): which archived frames, how they are ordered and held. */
const FILE = '/srv/easel/config/playlists/replay.yaml';

const ok = (text: string): Playlist => {
  const parsed = parsePlaylist(text, { file: FILE });
  if (!parsed.ok) throw new Error(`Expected a valid playlist but received: ${parsed.error.message}`);
  return parsed.playlist;
};
const fail = (text: string): PlaylistError => {
  const parsed = parsePlaylist(text, { file: FILE });
  if (parsed.ok) throw new Error('Expected the playlist to be refused');
  return parsed.error;
};

describe('parsePlaylist: archive steps', () => {
  it('reads a canvas, starred, a time range, the order and the hold, in flow and block style', () => {
    const playlist = ok(`
steps:
  - archive: { canvas: wall-1, starred: true }
    duration: 10m
  - archive: { canvas: wall-1, from: "2026-12-01T20:00Z", to: 2026-12-01T21:00Z }
    order: shuffle
    frames: 240
  - archive:
      canvas: wall-2
      from: 2026-12-01
    duration: 30s
`);
    expect(playlist.steps).toEqual([
      { type: 'archive', selection: { canvas: 'wall-1', starred: true }, hold: { kind: 'time', ms: 600_000 }, line: 3 },
      {
        type: 'archive',
        selection: { canvas: 'wall-1', from: Date.UTC(2026, 11, 1, 20), to: Date.UTC(2026, 11, 1, 21) },
        order: 'shuffle',
        hold: { kind: 'frames', count: 240 },
        line: 5,
      },
      {
        type: 'archive',
        selection: { canvas: 'wall-2', from: new Date(2026, 11, 1).getTime() },
        hold: { kind: 'time', ms: 30_000 },
        line: 8,
      },
    ]);
    expect(summarizeStep(playlist.steps[1]!)).toBe(
      'archive "wall-1, from 2026-12-01T20:00:00.000Z, to 2026-12-01T21:00:00.000Z" (shuffle) for 240 frames',
    );
  });

  const mistakes: Array<[string, string, number, number, RegExp, RegExp]> = [
    [
      'a selection that is a word',
      '  - archive: wall-1\n    duration: 5s\n',
      2,
      14,
      /"archive" must be a map of canvas, starred, from and to, not "wall-1"/,
      /canvas: wall-1/,
    ],
    ['no canvas', '  - archive: { starred: true }\n    duration: 5s\n', 2, 14, /"archive" names no canvas/, /Add canvas: wall-1/],
    [
      'a misspelt canvas key',
      '  - archive: { canvs: wall-1 }\n    duration: 5s\n',
      2,
      16,
      /Unknown key "canvs" \(did you mean "canvas"\?\)/,
      /takes canvas, starred, from, to/,
    ],
    [
      'an unknown selection key',
      '  - archive: { canvas: a, prompt: x }\n    duration: 5s\n',
      2,
      27,
      /Unknown key "prompt"/,
      /An archive selection takes canvas, starred, from, to/,
    ],
    [
      'an unknown step key',
      '  - archive: { canvas: a }\n    seed: 3\n    duration: 5s\n',
      3,
      5,
      /Unknown key "seed"/,
      /An archive step takes archive, order, duration, frames/,
    ],
    [
      'a misspelt order',
      '  - archive: { canvas: a }\n    ordr: shuffle\n    duration: 5s\n',
      3,
      5,
      /Unknown key "ordr" \(did you mean "order"\?\)/,
      /order/,
    ],
    [
      'an unknown order',
      '  - archive: { canvas: a }\n    order: newest\n    duration: 5s\n',
      3,
      12,
      /"order" must be "name" or "shuffle", not "newest"/,
      /shuffle/,
    ],
    [
      'a canvas slug with capitals',
      '  - archive: { canvas: Wall }\n    duration: 5s\n',
      2,
      24,
      /"canvas" must be a canvas slug, not "Wall"/,
      /display URL/,
    ],
    [
      'starred that is not a boolean',
      '  - archive: { canvas: a, starred: yes }\n    duration: 5s\n',
      2,
      36,
      /"starred" must be true or false, not "yes"/,
      /starred: true/,
    ],
    [
      'a date that is words',
      '  - archive: { canvas: a, from: yesterday }\n    duration: 5s\n',
      2,
      33,
      /"from" must be an ISO time like "2026-12-01T20:00", not "yesterday"/,
      /server local time/,
    ],
    [
      'a day a month lacks',
      '  - archive: { canvas: a, to: "2026-02-30" }\n    duration: 5s\n',
      2,
      31,
      /"to" must be an ISO time/,
      /2026-12-01T20:00Z/,
    ],
    [
      'a date read as a number',
      '  - archive: { canvas: a, from: 20261201 }\n    duration: 5s\n',
      2,
      33,
      /"from" must be an ISO time like "2026-12-01T20:00", not 20261201/,
      /ISO|date/,
    ],
    [
      'a range that ends before it starts',
      '  - archive: { canvas: a, from: 2026-12-02, to: 2026-12-01 }\n    duration: 5s\n',
      2,
      49,
      /"to" "2026-12-01" is not after "from" "2026-12-02"/,
      /later than/,
    ],
    ['no hold', '  - archive: { canvas: a }\n', 2, 5, /Step 1 has no "duration" or "frames"/, /frames: 120/],
  ];

  it.each(mistakes)('points at %s', (_what, step, line, column, message, hint) => {
    const error = fail(`steps:\n${step}`);
    expect(error.problems[0]).toMatchObject({ line, column });
    expect(error.problems[0]!.message).toMatch(message);
    expect(error.problems[0]!.hint).toMatch(hint);
  });

  it('names archive among the kinds a step may be', () => {
    expect(fail('steps:\n  - duration: 5s\n').hint).toMatch(/archive:/);
  });
});
