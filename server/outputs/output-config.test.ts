import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { isEaselError } from '../errors.js';

const emptyDir = () => mkdtempSync(path.join(tmpdir(), 'easel-config-'));
const load = (env: Record<string, string>) => loadConfig({ env: { EASEL_CANVASES: '[]', ...env }, configDir: emptyDir() });

/** The message start-up prints, for a config that must be refused. */
const refusal = (env: Record<string, string>): string => {
  try {
    load(env);
  } catch (err) {
    expect(isEaselError(err, 'EASEL_ERR_CONFIG_INVALID')).toBe(true);
    return (err as Error).message;
  }
  throw new Error('expected loadConfig to throw');
};

const SECRET = 'a-webhook-secret-of-32-characters';
const hook = (over: Record<string, unknown> = {}) =>
  JSON.stringify([{ url: 'https://chat.example/hooks/easel', events: ['job.done'], secret: SECRET, ...over }]);

describe('osc.targets', () => {
  it('takes host:port lists from the environment, with names and addresses', () => {
    expect(load({}).osc.targets).toEqual([]);
    expect(load({ EASEL_OSC_TARGETS: '10.0.0.20:7000, td-machine.local:9001' }).osc.targets).toEqual([
      '10.0.0.20:7000',
      'td-machine.local:9001',
    ]);
    expect(load({ EASEL_OSC_TARGETS: '["qlab.local:53000"]' }).osc.targets).toEqual(['qlab.local:53000']);
  });

  it.each([
    ['10.0.0.20', /osc\.targets: \[0\] "10\.0\.0\.20" is not host:port/],
    ['10.0.0.20:0', /osc\.targets: \[0\] "10\.0\.0\.20:0" is not host:port/],
    ['a:1,b:70000', /osc\.targets: \[1\] "b:70000" is not host:port/],
    ['[::1]:9000', /osc\.targets: \[0\] "\[::1\]:9000" is not host:port/],
    ['bad host:9000', /osc\.targets: \[0\]/],
    [Array.from({ length: 17 }, (_, i) => `10.0.0.${i}:7000`).join(','), /osc\.targets: has 17 targets, the most is 16/],
  ])('refuses %s, naming the key', (value, message) => {
    expect(refusal({ EASEL_OSC_TARGETS: value })).toMatch(message);
  });
});

describe('webhooks', () => {
  it('takes a JSON list of {url, events, secret}', () => {
    expect(load({ EASEL_WEBHOOKS: hook({ events: ['job.done', 'source.down'] }) }).webhooks).toEqual([
      { url: 'https://chat.example/hooks/easel', events: ['job.done', 'source.down'], secret: SECRET },
    ]);
  });

  it('reads them from a config file too', () => {
    const dir = emptyDir();
    writeFileSync(path.join(dir, 'development.json'), JSON.stringify({ webhooks: JSON.parse(hook()) }));
    expect(loadConfig({ env: { EASEL_CANVASES: '[]', NODE_ENV: 'development' }, configDir: dir }).webhooks).toHaveLength(1);
  });

  it.each([
    ['not json', /webhooks: must be a list of \{url, events, secret\}/],
    [hook({ url: 'ftp://x/y' }), /webhooks: \[0\]\.url must be an http:\/\/ or https:\/\/ URL/],
    [hook({ url: 'not a url' }), /webhooks: \[0\]\.url must be/],
    [hook({ events: [] }), /webhooks: \[0\]\.events must be a non-empty list of job\.done/],
    [hook({ events: ['job.done', 'job.finished'] }), /webhooks: \[0\]\.events: "job\.finished" is not an event/],
    [hook({ secret: 'short' }), /webhooks: \[0\]\.secret is 5 characters; it must be 16 to 256/],
    [hook({ secret: undefined }), /webhooks: \[0\]\.secret is missing/],
    [hook({ retries: 3 }), /webhooks: \[0\]\.retries is not a webhook setting/],
    ['[1]', /webhooks: \[0\] must be an object/],
  ])('refuses %s, naming the key', (value, message) => {
    expect(refusal({ EASEL_WEBHOOKS: value })).toMatch(message);
  });

  it('never prints a secret in a refusal', () => {
    const message = refusal({ EASEL_WEBHOOKS: hook({ url: 'ftp://x/y' }) });
    expect(message).not.toContain(SECRET);
  });
});
