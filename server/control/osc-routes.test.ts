import { describe, expect, it } from 'vitest';
import { routeOscMessage } from './osc-routes.js';

const route = (address: string, ...args: unknown[]) => routeOscMessage(address, args, { maxPromptLength: 40 });

describe('routeOscMessage', () => {
  it('reads a prompt from a single string argument, as TouchDesigner and QLab send it', () => {
    expect(route('/easel/left-canva/prompt', 'a red boat')).toEqual({
      ok: true,
      action: { kind: 'prompt', slug: 'left-canva', prompt: 'a red boat' },
    });
  });

  it('joins the words Max/MSP sends as separate arguments, numbers included', () => {
    expect(route('/easel/lobby-3/prompt', 'a', 'red', 'boat', 3, 0.10000000149011612)).toEqual({
      ok: true,
      action: { kind: 'prompt', slug: 'lobby-3', prompt: 'a red boat 3 0.1' },
    });
  });

  it.each([
    [[], 'expected the prompt as a string argument but received no arguments'],
    [['   '], 'expected the prompt'],
    [[true], 'must be strings or numbers but received 1 argument (boolean)'],
    [['a', null], 'received 2 arguments (string, nil)'],
    [[Buffer.from('x')], '(blob)'],
    [['x'.repeat(41)], 'the prompt is 41 characters long, the most is 40'],
  ])('refuses prompt arguments %j saying why', (args, why) => {
    const result = routeOscMessage('/easel/a/prompt', args, { maxPromptLength: 40 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(why);
  });

  it.each(['next', 'pause', 'resume'] as const)('triggers %s with no argument, or with 1 or true', (verb) => {
    const pressed = { ok: true, action: { kind: verb, slug: 'a' } };
    expect(route(`/easel/a/${verb}`)).toEqual(pressed);
    expect(route(`/easel/a/${verb}`, 1)).toEqual(pressed);
    expect(route(`/easel/a/${verb}`, 1.0, 'extra')).toEqual(pressed);
    expect(route(`/easel/a/${verb}`, true)).toEqual(pressed);
  });

  it('treats a trigger with 0 or false as a button release that asks for nothing', () => {
    expect(route('/easel/a/next', 0)).toEqual({ ok: true, action: null });
    expect(route('/easel/a/pause', false)).toEqual({ ok: true, action: null });
    expect(route('/easel/a/playlist/stop', 0)).toEqual({ ok: true, action: null });
  });

  it('starts a playlist by name and stops it', () => {
    expect(route('/easel/a/playlist', ' evening ')).toEqual({ ok: true, action: { kind: 'playlist', slug: 'a', name: 'evening' } });
    expect(route('/easel/a/playlist/stop')).toEqual({ ok: true, action: { kind: 'playlist-stop', slug: 'a' } });
  });

  it.each([
    [[], 'expected the playlist name as a string argument but received no arguments'],
    [[7], 'received 1 argument (number)'],
    [['n'.repeat(256)], 'the playlist name is 256 characters long'],
  ])('refuses playlist arguments %j saying why', (args, why) => {
    const result = routeOscMessage('/easel/a/playlist', args, { maxPromptLength: 40 });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(why);
  });

  it.each([
    ['/easel/Left/next', 'Invalid canvas slug "Left"'],
    ['/easel//next', 'it is empty'],
    ['/easel/a', 'Unknown OSC address "/easel/a"'],
    ['/easel/a/jump', 'Unknown OSC address "/easel/a/jump": Easel listens to /easel/<slug>/prompt, next'],
    ['/easel/a/next/', 'Unknown OSC address'],
    ['/easel/a/NEXT', 'Unknown OSC address'],
    ['/other/a/next', 'Unknown OSC address'],
    ['easel/a/next', 'Unknown OSC address'],
    ['error', 'Unknown OSC address "error"'],
    [`/${'x'.repeat(300)}`, '..."'],
  ])('refuses the address %s saying why', (address, why) => {
    const result = route(address);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toContain(why);
  });
});
