import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT, defaultNodeId, loadConfig, resolveCanvas } from './config.js';
import { isEaselError } from './errors.js';

const emptyDir = () => mkdtempSync(path.join(tmpdir(), 'easel-config-'));

const failure = (fn: () => unknown): Error => {
  try {
    fn();
  } catch (err) {
    expect(isEaselError(err, 'EASEL_ERR_CONFIG_INVALID')).toBe(true);
    return err as Error;
  }
  throw new Error('expected loadConfig to throw');
};

describe('loadConfig', () => {
  it('starts from defaults that stream the bundled assets to two canvases on port 8000', () => {
    const config = loadConfig({ env: {}, configDir: emptyDir() });
    expect(config.port).toBe(8000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.canvases.map((c) => c.slug)).toEqual(['left-canva', 'right-canva']);
    const left = resolveCanvas(config, config.canvases[0]!);
    expect(left).toMatchObject({ fps: 4, source: { type: 'folder', order: 'name', path: path.join(PROJECT_ROOT, 'assets') } });
  });

  it('lets a file, then EASEL_* variables, then flags override, in that order', () => {
    const dir = emptyDir();
    writeFileSync(path.join(dir, 'development.json'), JSON.stringify({ port: 7000, canvasDefaults: { fps: 2 } }));
    expect(loadConfig({ env: {}, configDir: dir }).port).toBe(7000);
    expect(loadConfig({ env: { EASEL_PORT: '7100' }, configDir: dir }).port).toBe(7100);
    const config = loadConfig({ env: { EASEL_PORT: '7100', EASEL_FPS: '0.5' }, argv: ['--port', '7200'], configDir: dir });
    expect(config.port).toBe(7200);
    expect(config.canvasDefaults.fps).toBe(0.5);
  });

  it('stops on a bad port, naming the key, the value and what is allowed', () => {
    const err = failure(() => loadConfig({ env: { EASEL_PORT: '99999' }, configDir: emptyDir() }));
    expect(err.message).toMatch(/port/);
    expect(err.message).toMatch(/99999/);
    expect(err.message).toMatch(/0 - 65535|65535/);
  });

  it('stops on an fps out of range, naming the allowed range', () => {
    const err = failure(() => loadConfig({ env: { EASEL_FPS: '60' }, configDir: emptyDir() }));
    expect(err.message).toMatch(/canvasDefaults\.fps: must be a number from 0\.1 to 30/);
    expect(err.message).toMatch(/60/);
  });

  it('times frames 300 ms ahead by default, and lets one canvas turn sync off or change its lead', () => {
    const canvases = JSON.stringify([{ slug: 'pair' }, { slug: 'solo', sync: false }, { slug: 'far', leadMs: 800 }]);
    const config = loadConfig({ env: { EASEL_CANVASES: canvases }, configDir: emptyDir() });
    const [pair, solo, far] = config.canvases.map((c) => resolveCanvas(config, c));
    expect(pair).toMatchObject({ sync: true, leadMs: 300 });
    expect(solo).toMatchObject({ sync: false });
    expect(far).toMatchObject({ sync: true, leadMs: 800 });
    expect(loadConfig({ env: { EASEL_SYNC: 'false', EASEL_LEAD_MS: '120' }, configDir: emptyDir() }).canvasDefaults).toMatchObject({
      sync: false,
      leadMs: 120,
    });
  });

  it('stops on a lead or sync it cannot use, naming the key', () => {
    expect(failure(() => loadConfig({ env: { EASEL_LEAD_MS: '9000' }, configDir: emptyDir() })).message).toMatch(
      /canvasDefaults\.leadMs: must be a whole number from 0 to 5000/,
    );
    expect(failure(() => loadConfig({ env: { EASEL_SYNC: 'maybe' }, configDir: emptyDir() })).message).toMatch(
      /canvasDefaults\.sync: must be true or false/,
    );
    const canvases = JSON.stringify([{ slug: 'ok', leadMs: -5 }]);
    expect(failure(() => loadConfig({ env: { EASEL_CANVASES: canvases }, configDir: emptyDir() })).message).toMatch(
      /canvases\[0\]\.leadMs/,
    );
  });

  it('names the canvas entry and field that is wrong', () => {
    const canvases = JSON.stringify([{ slug: 'ok' }, { slug: 'lobby', fit: 'stretch' }]);
    const err = failure(() => loadConfig({ env: { EASEL_CANVASES: canvases }, configDir: emptyDir() }));
    expect(err.message).toMatch(/canvases\[1\]\.fit: value "stretch" is not allowed, expected one of inside, contain, cover, fill/);
  });

  it('reads a tiled wall, a screen being the canvas size unless the grid says', () => {
    const canvases = JSON.stringify([
      { slug: 'lobby', width: 1280, height: 720, tiles: { columns: 2, rows: 1, bezelPx: 24 } },
      { slug: 'hall', tiles: { columns: 3, rows: 3, tileWidth: 1920, tileHeight: 1080 } },
    ]);
    const config = loadConfig({ env: { EASEL_CANVASES: canvases }, configDir: emptyDir() });
    expect(resolveCanvas(config, config.canvases[0]!).tiles).toEqual({
      columns: 2,
      rows: 1,
      bezelPx: 24,
      tileWidth: 1280,
      tileHeight: 720,
    });
    expect(resolveCanvas(config, config.canvases[1]!).tiles).toEqual({
      columns: 3,
      rows: 3,
      bezelPx: 0,
      tileWidth: 1920,
      tileHeight: 1080,
    });
    expect(resolveCanvas(config, { slug: 'plain' }).tiles).toBeUndefined();
  });

  it.each([
    [{ columns: 2 }, /canvases\[0\]\.tiles\.rows: is required/],
    [{ columns: 0, rows: 1 }, /canvases\[0\]\.tiles\.columns: value 0 is not allowed, expected a whole number from 1 to 16/],
    [{ columns: 2, rows: 1.5 }, /canvases\[0\]\.tiles\.rows: value 1\.5 is not allowed/],
    [
      { columns: 2, rows: 1, bezelPx: -1 },
      /canvases\[0\]\.tiles\.bezelPx: value -1 is not allowed, expected a whole number from 0 to 2000/,
    ],
    [{ columns: 2, rows: 1, bezelPx: 1e9 }, /canvases\[0\]\.tiles\.bezelPx: value 1000000000 is not allowed/],
    [{ columns: 2, rows: 1, tileWidth: '1920' }, /canvases\[0\]\.tiles\.tileWidth: value "1920" is not allowed/],
    [{ columns: 99999, rows: 1 }, /canvases\[0\]\.tiles\.columns: value 99999 is not allowed/],
    [
      { columns: 2, rows: 1, bezel: 20 },
      /canvases\[0\]\.tiles\.bezel: unknown setting; allowed are columns, rows, bezelPx, tileWidth, tileHeight/,
    ],
    ['2x1', /canvases\[0\]\.tiles: value "2x1" is not allowed, expected an object like/],
  ])('refuses the grid %j naming the key', (tiles, message) => {
    const canvases = JSON.stringify([{ slug: 'lobby', tiles }]);
    expect(failure(() => loadConfig({ env: { EASEL_CANVASES: canvases }, configDir: emptyDir() })).message).toMatch(message);
  });

  it('refuses a bad slug and a slug declared twice', () => {
    const bad = JSON.stringify([{ slug: 'Lobby One' }]);
    expect(failure(() => loadConfig({ env: { EASEL_CANVASES: bad }, configDir: emptyDir() })).message).toMatch(
      /canvases\[0\]\.slug: Invalid canvas slug "Lobby One"/,
    );
    const twice = JSON.stringify([{ slug: 'a' }, { slug: 'a' }]);
    expect(failure(() => loadConfig({ env: { EASEL_CANVASES: twice }, configDir: emptyDir() })).message).toMatch(/declared twice/);
  });

  it('refuses an unknown key in a config file, so typos do not pass silently', () => {
    const dir = emptyDir();
    writeFileSync(path.join(dir, 'development.json'), JSON.stringify({ prot: 9000 }));
    expect(failure(() => loadConfig({ env: {}, configDir: dir })).message).toMatch(/prot/);
  });

  it('refuses a --config file that does not exist', () => {
    expect(failure(() => loadConfig({ env: {}, argv: ['--config', '/nope/easel.json'] })).message).toMatch(/\/nope\/easel.json/);
  });
});

describe('inference settings', () => {
  it('makes canvases generate when an endpoint is given, falling back to the bundled assets', () => {
    const config = loadConfig({
      env: {},
      argv: ['--inference', '127.0.0.1:50051,gpu-2:50051', '--prompt', 'tide pools'],
      configDir: emptyDir(),
    });
    expect(config.inference.endpoints).toEqual(['127.0.0.1:50051', 'gpu-2:50051']);
    expect(resolveCanvas(config, { slug: 'x' }).source).toMatchObject({
      type: 'inference',
      prompt: 'tide pools',
      fallback: path.join(PROJECT_ROOT, 'assets'),
    });
    expect(resolveCanvas(config, { slug: 'y', source: { type: 'folder' } }).source.type).toBe('folder');
  });

  it('refuses an endpoint that is not host:port', () => {
    expect(failure(() => loadConfig({ env: { EASEL_INFERENCE_ENDPOINTS: 'http://gpu:50051' }, configDir: emptyDir() })).message).toMatch(
      /inference\.endpoints: endpoint "http:\/\/gpu:50051" is not host:port/,
    );
  });

  it('refuses an inference canvas when no endpoint is configured', () => {
    const canvases = JSON.stringify([{ slug: 'gen', source: { type: 'inference', prompt: 'fog' } }]);
    expect(failure(() => loadConfig({ env: { EASEL_CANVASES: canvases }, configDir: emptyDir() })).message).toMatch(
      /canvases\[0\]\.source\.type: "inference" needs inference\.endpoints/,
    );
  });

  it('runs alone unless a Redis URL is given, with a node id of its own at every start, kept through a reload', () => {
    const alone = loadConfig({ env: {}, configDir: emptyDir() });
    expect(alone.cluster).toMatchObject({ redisUrl: '', advertiseAddress: '', leaseMs: 3000 });
    expect(alone.cluster.nodeId).toMatch(/^[A-Za-z0-9._-]+-[0-9a-f]{8}$/);
    // A SIGHUP reads the config again in the same process: the same node, not a new one.
    expect(loadConfig({ env: {}, configDir: emptyDir() }).cluster.nodeId).toBe(alone.cluster.nodeId);
    // Another start is another node.
    expect(defaultNodeId()).not.toBe(alone.cluster.nodeId);
    const joined = loadConfig({
      env: { EASEL_REDIS_URL: 'rediss://user:pw@redis.venue.lan:6380/2', EASEL_NODE_ID: 'easel-a', EASEL_LEASE_MS: '5000' },
      argv: ['--redis', 'redis://10.0.0.2:6379'],
      configDir: emptyDir(),
    });
    expect(joined.cluster).toMatchObject({ redisUrl: 'redis://10.0.0.2:6379', nodeId: 'easel-a', leaseMs: 5000 });
  });

  it('stops on a cluster setting it cannot use, naming the key and keeping a password out of the message', () => {
    for (const url of ['http://redis:6379', 'redis://', 'not a url', 'redis://h:6379/db']) {
      expect(failure(() => loadConfig({ env: { EASEL_REDIS_URL: url }, configDir: emptyDir() })).message).toMatch(
        /cluster\.redisUrl: must be "" \(run alone\) or a Redis address/,
      );
    }
    const secret = failure(() => loadConfig({ env: { EASEL_REDIS_URL: 'http://u:hunter2@h' }, configDir: emptyDir() }));
    expect(secret.message).not.toMatch(/hunter2/);
    expect(failure(() => loadConfig({ env: { EASEL_NODE_ID: 'a b' }, configDir: emptyDir() })).message).toMatch(/cluster\.nodeId/);
    expect(failure(() => loadConfig({ env: { EASEL_NODE_ID: 'x'.repeat(65) }, configDir: emptyDir() })).message).toMatch(/cluster\.nodeId/);
    expect(failure(() => loadConfig({ env: { EASEL_LEASE_MS: '100' }, configDir: emptyDir() })).message).toMatch(
      /cluster\.leaseMs: must be an integer from 1000 to 60000/,
    );
    expect(failure(() => loadConfig({ env: { EASEL_ADVERTISE_ADDRESS: 'node a' }, configDir: emptyDir() })).message).toMatch(
      /cluster\.advertiseAddress/,
    );
  });

  it('names a bad prompt setting', () => {
    const canvases = JSON.stringify([{ slug: 'gen', source: { type: 'inference', drift: 2 } }]);
    const err = failure(() => loadConfig({ env: { EASEL_CANVASES: canvases, EASEL_INFERENCE_ENDPOINTS: 'a:1' }, configDir: emptyDir() }));
    expect(err.message).toMatch(/canvases\[0\]\.source\.drift: value 2 is not allowed, expected a strength from 0 \(off\) to 1/);
  });
});

describe('config/example.json', () => {
  it('is a valid config', () => {
    const config = loadConfig({ env: {}, argv: ['--config', path.join(PROJECT_ROOT, 'config/example.json')] });
    expect(config.canvases.map((c) => c.slug)).toEqual(['left-canva', 'right-canva', 'lobby-3']);
  });
});

describe('README.md', () => {
  it('documents every configuration key (regenerate the table with tools/config-table.ts)', async () => {
    const { readFileSync } = await import('node:fs');
    const { schema } = await import('./config.js');
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    const keys: string[] = [];
    const walk = (node: Record<string, unknown>, prefix: string) => {
      for (const [k, v] of Object.entries(node)) {
        if (typeof v === 'object' && v !== null && 'doc' in v && 'default' in v) keys.push(prefix + k);
        else walk(v as Record<string, unknown>, `${prefix}${k}.`);
      }
    };
    walk(schema as unknown as Record<string, unknown>, '');
    expect(keys.filter((k) => !readme.includes(`| \`${k}\` |`))).toEqual([]);
  });
});
