import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { routeOscMessage } from '../control/osc-routes.js';
import { isEaselError } from '../errors.js';
import { parsePlaylist } from '../playlist/parse-playlist.js';
import { seedForPass } from '../playlist/playlist-types.js';
import { MAX_PROMPT, MAX_SEED, MAX_STEPS } from './fields.js';
import { parseRequest } from './problems.js';
import { canvasDeclaration, promptCommand, sourceCommand } from './shapes.js';

const configDir = mkdtempSync(path.join(tmpdir(), 'easel-input-'));

/** What each surface says about one prompt field: null when it takes the value, else its message. */
const surfaces = {
  config(field: string, value: unknown): string | null {
    const canvases = JSON.stringify([{ slug: 'gen', source: { type: 'inference', prompt: 'fog', [field]: value } }]);
    try {
      loadConfig({ env: { EASEL_CANVASES: canvases, EASEL_INFERENCE_ENDPOINTS: 'gpu:50051' }, configDir });
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  },
  api(field: string, value: unknown): string | null {
    try {
      parseRequest(promptCommand, { prompt: 'fog', [field]: value });
      return null;
    } catch (err) {
      expect(isEaselError(err, 'EASEL_ERR_REQUEST_INVALID')).toBe(true);
      return (err as Error).message;
    }
  },
  playlist(field: string, value: unknown): string | null {
    const text = `steps:\n  - prompt: fog\n    ${field}: ${JSON.stringify(value)}\n    duration: 5s\n`;
    const parsed = parsePlaylist(text, { file: 'config/playlists/show.yaml' });
    return parsed.ok ? null : parsed.error.problems[0]!.message;
  },
};

describe('one rule per field, whichever way it arrives', () => {
  const cases: Array<[string, unknown, boolean]> = [
    ['steps', 0, true],
    ['steps', MAX_STEPS, true],
    ['steps', MAX_STEPS + 1, false],
    ['steps', 2.5, false],
    ['seed', 0, true],
    ['seed', 2 ** 32, true],
    ['seed', MAX_SEED, true],
    ['seed', MAX_SEED + 1, false],
    ['seed', -1, false],
    ['drift', 1, true],
    ['drift', 1.5, false],
    ['negativePrompt', '', true],
    ['negativePrompt', 'x'.repeat(MAX_PROMPT), true],
    ['negativePrompt', 'x'.repeat(MAX_PROMPT + 1), false],
  ];

  it.each(cases)('%s %j: config, API and playlists agree', (field, value, allowed) => {
    for (const [surface, check] of Object.entries(surfaces)) {
      const message = check(field, value);
      if (allowed) expect(message, surface).toBeNull();
      else expect(message, surface).toMatch(new RegExp(`\\b${field}\\b`));
    }
  });

  it('takes prompts of up to 2,000 characters everywhere, OSC included', () => {
    const long = 'x'.repeat(MAX_PROMPT);
    expect(() => parseRequest(promptCommand, { prompt: long })).not.toThrow();
    expect(routeOscMessage('/easel/a/prompt', [long])).toMatchObject({ ok: true });
    expect(parsePlaylist(`steps:\n  - prompt: ${long}\n    duration: 5s\n`, { file: 'show.yaml' }).ok).toBe(true);
    expect(canvasDeclaration.safeParse({ slug: 'a', source: { prompt: long } }).success).toBe(true);

    expect(() => parseRequest(promptCommand, { prompt: `${long}x` })).toThrow('prompt: is 2001 characters long, the most is 2000');
    expect(routeOscMessage('/easel/a/prompt', [`${long}x`])).toMatchObject({
      ok: false,
      reason: expect.stringContaining('the most is 2000'),
    });
    expect(surfaces.playlist('negativePrompt', `${long}x`)).toBe('"negativePrompt" is 2001 characters long, the most is 2000');
  });
});

describe('parseRequest', () => {
  it('names the field first, in the problem and its details', () => {
    const error = (() => {
      try {
        parseRequest(promptCommand, { prompt: 'ok', steps: 51 });
      } catch (err) {
        return err as Error & { details: Record<string, unknown>; hint: string };
      }
      throw new Error('expected a refusal');
    })();
    expect(error.message).toBe('steps: value 51 is not allowed, expected a whole number from 0 (the service default) to 50');
    expect(error.details).toEqual({ field: 'steps' });
    expect(error.hint).toMatch(/SDXL-Turbo takes 1-4/);
  });

  it('says a missing field is required, and a source type it does not know', () => {
    expect(() => parseRequest(promptCommand, {})).toThrow('prompt: is required');
    expect(() => parseRequest(sourceCommand, { type: 'video' })).toThrow(
      'type: value "video" is not allowed, expected one of folder, inference, still, playlist, archive',
    );
    expect(() => parseRequest(sourceCommand, { type: 'folder' })).toThrow('path: is required');
  });

  it('passes a valid body on typed, without keys it does not know', () => {
    expect(parseRequest(sourceCommand, { type: 'folder', path: '/srv/art', extra: 1 })).toEqual({ type: 'folder', path: '/srv/art' });
  });
});

describe('seedForPass', () => {
  it('starts a walk from a seed above 2^32 unchanged, and moves it on each pass', () => {
    const at = { playlist: 'show', stepIndex: 0, slug: 'a' };
    expect(seedForPass({ seed: 2 ** 40, seedWalk: true }, { ...at, pass: 0 })).toBe(2 ** 40);
    expect(seedForPass({ seed: 42, seedWalk: true }, { ...at, pass: 2 })).toBe(20_042);
    expect(seedForPass({ seed: MAX_SEED, seedWalk: true }, { ...at, pass: 1 })).toBeLessThanOrEqual(MAX_SEED);
  });
});
