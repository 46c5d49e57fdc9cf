import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { schemaOptions } from '../../server/cli-flags.js';
import { PROJECT_ROOT, loadConfig, schema } from '../../server/config.js';
import { allocatorFromMaps } from '../../tools/soak/memory.js';
import { startMain } from '../support/main-process.js';
import { tempFolder } from '../support/server.js';

const DEPLOY = path.join(PROJECT_ROOT, 'deploy', 'systemd');
const unit = readFileSync(path.join(DEPLOY, 'easel.service'), 'utf8');
const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((c) => c()));

/** The unit as installed here: this checkout for /opt/easel and this Node for /usr/bin/node (verify needs ExecStart to exist). */
function installedCopy(): string {
  const dir = tempFolder('easel-unit-');
  cleanups.push(dir.remove);
  const file = path.join(dir.dir, 'easel.service');
  writeFileSync(file, unit.replaceAll('/usr/bin/node', process.execPath).replaceAll('/opt/easel', PROJECT_ROOT));
  return file;
}

// CI installs systemd-analyze (Debian package systemd, in .ci/run); elsewhere these say they are skipped.
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const skipped = analyze ? '' : ' (SKIPPED: systemd-analyze is not installed; apt-get install systemd)';

/** Debian's libjemalloc2 (.ci/run installs it); the unit preloads it (README, Benchmarks: the soak). */
const preloaded = /^Environment=LD_PRELOAD=(\S+)$/m.exec(unit)?.[1];
const jemalloc = preloaded !== undefined && existsSync(preloaded);

describe('deploy/systemd/easel.service', () => {
  it(`preloads Debian's jemalloc, and the server runs on it${jemalloc ? '' : ' (SKIPPED: libjemalloc2 is not installed; apt-get install libjemalloc2)'}`, async () => {
    expect(preloaded).toBe('/usr/lib/x86_64-linux-gnu/libjemalloc.so.2');
    if (!jemalloc) return;
    const main = startMain([], { EASEL_HOST: '127.0.0.1', EASEL_PORT: '0', LD_PRELOAD: preloaded! });
    cleanups.push(() => main.child.kill('SIGKILL'));
    await main.port;
    expect(allocatorFromMaps(readFileSync(`/proc/${main.child.pid}/maps`, 'utf8'))).toBe(`jemalloc (${preloaded})`);
    main.child.kill('SIGTERM');
    expect((await main.exited).code).toBe(0);
    expect(main.stderr()).not.toContain('cannot be preloaded');
  }, 30_000);

  it('restarts on failure, runs as its own user, reloads with SIGHUP and is sandboxed', () => {
    for (const line of [
      'Restart=on-failure',
      'User=easel',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'ExecStart=/usr/bin/node /opt/easel/dist/server/main.js',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ReadWritePaths=/var/lib/easel',
      'ProtectHome=yes',
      'PrivateTmp=yes',
      'StateDirectory=easel',
    ]) {
      expect(unit.split('\n'), line).toContain(line);
    }
  });

  it.skipIf(!analyze)(`passes systemd-analyze verify${skipped}`, () => {
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', installedCopy()], { encoding: 'utf8' });
    expect(`${r.stdout}${r.stderr}`).toBe('');
    expect(r.status).toBe(0);
  });

  it.skipIf(!analyze)(`rates as well sandboxed by systemd-analyze security${skipped}`, () => {
    const r = spawnSync('systemd-analyze', ['security', '--offline=yes', '--no-pager', installedCopy()], { encoding: 'utf8' });
    const exposure = /Overall exposure level for easel\.service: ([\d.]+)/.exec(r.stdout);
    expect(exposure, `${r.stdout}${r.stderr}`).not.toBeNull();
    // 0 is fully locked down, 10 is unprotected; systemd calls under 2 "OK".
    expect(Number(exposure![1])).toBeLessThan(3);
  });

  it('has an env example that names only real EASEL_* variables and loads as a valid config', () => {
    const known = new Set(schemaOptions(schema).flatMap((o) => (o.env ? [o.env] : [])));
    const lines = readFileSync(path.join(DEPLOY, 'easel.env.example'), 'utf8').split('\n');
    const settings = lines.map((l) => /^#?(EASEL_[A-Z_]+)=(.*)$/.exec(l)).filter((m) => m !== null);
    expect(settings.length).toBeGreaterThan(3);
    for (const [, name] of settings) expect(known, name).toContain(name);
    const env = Object.fromEntries(settings.filter(([line]) => !line.startsWith('#')).map(([, name, value]) => [name!, value!]));
    const configDir = tempFolder();
    cleanups.push(configDir.remove);
    expect(() => loadConfig({ env: { ...env, EASEL_CANVASES: '[]' }, configDir: configDir.dir })).not.toThrow();
  });
});
