import { describe, expect, it } from 'vitest';
import { parseSavedState } from './saved-state.js';

const stateWith = (source: unknown) => ({ version: 1, savedAt: '', canvases: { lobby: { source } }, playlists: [] });

describe('a saved archive selection', () => {
  it('comes back as the selection it was, times as epoch ms', () => {
    const source = {
      type: 'archive',
      selection: { canvas: 'wall-1', starred: true, from: 1_700_000_000_000, to: 1_800_000_000_000 },
      order: 'shuffle',
    };
    expect(parseSavedState(stateWith(source)).canvases.lobby!.source).toEqual(source);
    const plain = { type: 'archive', selection: { canvas: 'wall-1' }, order: 'name' };
    expect(parseSavedState(stateWith(plain)).canvases.lobby!.source).toEqual(plain);
  });

  it('is refused naming the field when a part is not what it should be', () => {
    const cases: Array<[unknown, string]> = [
      [{ type: 'archive', order: 'name' }, 'canvases.lobby.source.selection: is not an object'],
      [{ type: 'archive', selection: { canvas: '../etc' } }, 'canvases.lobby.source.selection.canvas: is not a canvas slug'],
      [
        { type: 'archive', selection: { canvas: 'wall-1', starred: 'yes' } },
        'canvases.lobby.source.selection.starred: is not true or false',
      ],
      [{ type: 'archive', selection: { canvas: 'wall-1', from: -5 } }, 'canvases.lobby.source.selection.from: is not a time'],
      [{ type: 'archive', selection: { canvas: 'wall-1', to: '2026-12-01' } }, 'canvases.lobby.source.selection.to: is not a time'],
      [{ type: 'museum' }, 'canvases.lobby.source.type: "museum" is not folder, inference, still or archive'],
    ];
    for (const [source, message] of cases) expect(() => parseSavedState(stateWith(source)), message).toThrow(message);
  });
});
