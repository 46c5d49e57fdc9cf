import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { createAuthFailures } from './auth-failures.js';
import { contentTypeMatches } from './http.js';
import { createHostPolicy, hostName } from './host-policy.js';
import { redact, redactText } from './redact.js';

describe('wrong tokens per address', () => {
  it('lets a few through, then makes the address wait longer after each further guess', () => {
    const clock = new FakeClock();
    const failures = createAuthFailures({ clock, free: 5, baseMs: 1000, maxMs: 8000 });
    for (let i = 0; i < 5; i++) {
      expect(failures.waitSeconds('10.0.0.9')).toBe(0);
      failures.failed('10.0.0.9', `guess-${i}`);
    }
    expect(failures.waitSeconds('10.0.0.9')).toBe(1);
    clock.advance(1000);
    failures.failed('10.0.0.9', 'guess-5');
    expect(failures.waitSeconds('10.0.0.9')).toBe(2);
    clock.advance(2000);
    failures.failed('10.0.0.9', 'guess-6');
    expect(failures.waitSeconds('10.0.0.9')).toBe(4);
    for (let i = 7; i < 20; i++) failures.failed('10.0.0.9', `guess-${i}`);
    expect(failures.waitSeconds('10.0.0.9')).toBe(8); // capped
    expect(failures.waitSeconds('10.0.0.10')).toBe(0); // another address is not affected
  });

  it('does not count the same stale token twice, and starts afresh after the right one', () => {
    const clock = new FakeClock();
    const failures = createAuthFailures({ clock, free: 2 });
    for (let i = 0; i < 50; i++) failures.failed('a', 'stale');
    expect(failures.waitSeconds('a')).toBe(0);
    failures.failed('a', 'other');
    expect(failures.waitSeconds('a')).toBe(1);
    failures.succeeded('a');
    expect(failures.waitSeconds('a')).toBe(0);
    expect(failures.size).toBe(0);
  });

  it('forgets an address after a quiet spell and stays bounded', () => {
    const clock = new FakeClock();
    const failures = createAuthFailures({ clock, free: 1, forgetMs: 60_000, maxAddresses: 3 });
    failures.failed('a', 'x');
    clock.advance(61_000);
    expect(failures.waitSeconds('a')).toBe(0);
    for (const address of ['b', 'c', 'd', 'e']) failures.failed(address, 'x');
    expect(failures.size).toBeLessThanOrEqual(3);
  });
});

describe('Host and Origin', () => {
  const hosts = createHostPolicy({
    allowedHosts: ['wall.venue.lan', '*.gallery.org'],
    bindHost: '0.0.0.0',
    machineNames: ['easel', 'easel.local'],
  });

  it('answers loopback, the machine, IP literals and the configured names, and nothing else', () => {
    for (const ok of [
      'localhost:8000',
      '127.0.0.1',
      '[::1]:8000',
      'EASEL.local:8000',
      'easel',
      '192.168.1.50:8000',
      'wall.venue.lan',
      'a.gallery.org',
      'app.localhost',
      undefined,
      '',
    ]) {
      expect(hosts.hostAllowed(ok), String(ok)).toBe(true);
    }
    for (const bad of ['evil.example', 'evil.example:8000', 'gallery.org.evil.example', 'localhost.evil.example'])
      expect(hosts.hostAllowed(bad), bad).toBe(false);
    expect(createHostPolicy({ allowedHosts: ['*'], bindHost: '0.0.0.0', machineNames: [] }).hostAllowed('anything.example')).toBe(true);
    expect(createHostPolicy({ allowedHosts: [], bindHost: 'easel.venue.lan', machineNames: [] }).hostAllowed('easel.venue.lan:8000')).toBe(
      true,
    );
    expect(hostName('[FE80::1%eth0]:8000')).toBe('fe80::1');
  });

  it('takes commands from no Origin, the same origin or an allowed host, not from another site', () => {
    expect(hosts.originAllowed(undefined, 'easel:8000')).toBe(true);
    expect(hosts.originAllowed('http://192.168.1.50:8000', '192.168.1.50:8000')).toBe(true); // same origin
    expect(hosts.originAllowed('http://localhost:5173', 'localhost:8000')).toBe(true); // the Vite dev server
    expect(hosts.originAllowed('https://evil.example', 'localhost:8000')).toBe(false);
    expect(hosts.originAllowed('http://evil.example:8000', 'evil.example:8000')).toBe(false); // DNS rebinding
    expect(hosts.originAllowed('http://203.0.113.7', '192.168.1.50:8000')).toBe(false); // another machine's page
    expect(hosts.originAllowed('null', 'localhost:8000')).toBe(false);
  });
});

describe('content types', () => {
  it('matches JSON, images and the types a browser form cannot send', () => {
    expect(contentTypeMatches('application/json; charset=utf-8', ['application/json'])).toBe(true);
    expect(contentTypeMatches('application/merge-patch+json', ['application/json', 'application/*+json'])).toBe(true);
    expect(contentTypeMatches('image/png', ['image/*', 'application/octet-stream'])).toBe(true);
    for (const form of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      expect(contentTypeMatches(form, ['application/json', 'image/*', 'application/octet-stream'])).toBe(false);
    }
  });
});

describe('redaction for readers without the operator token', () => {
  it('drops addresses and keeps only the last part of server paths, leaving URLs and the rest', () => {
    const out = redact({
      source: { reason: 'Folder "/srv/art/night" does not exist', details: { path: '/srv/art/night', images: 3 } },
      origin: { via: 'http', who: '10.0.0.4' },
      displayList: [{ address: '10.0.0.5', framesSent: 4 }],
      hint: 'GET /api/canvases lists them; open /c/lobby or http://easel.local:8000/wall',
    });
    expect(out).toEqual({
      source: { reason: 'Folder "…/night" does not exist', details: { path: '…/night', images: 3 } },
      origin: { via: 'http' },
      displayList: [{ framesSent: 4 }],
      hint: 'GET /api/canvases lists them; open /c/lobby or http://easel.local:8000/wall',
    });
    expect(redactText('steps:\n  - still: /home/me/a b.jpg\n')).toBe('steps:\n  - still: …/a b.jpg\n');
  });
});
