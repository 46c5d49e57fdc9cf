import { describe, expect, it } from 'vitest';
import { MAX_CLIENT_MESSAGE_BYTES, readClientMessage } from './display-messages.js';

const text = (s: string) => new TextEncoder().encode(s).buffer as ArrayBuffer;

describe('readClientMessage', () => {
  it('reads a ping with its clock offset, and without one', () => {
    expect(readClientMessage(text('{"type":"ping","t0":12.5,"offset":-40}'), false)).toEqual({ kind: 'ping', t0: 12.5, offsetMs: -40 });
    expect(readClientMessage(text('{"type":"ping","t0":1,"offset":"x"}'), false)).toEqual({ kind: 'ping', t0: 1, offsetMs: undefined });
  });

  it('reads a viewport it can use, and ignores one it cannot', () => {
    expect(readClientMessage(text('{"type":"viewport","w":800,"h":600,"dpr":2}'), false)).toEqual({
      kind: 'viewport',
      viewport: { w: 800, h: 600, dpr: 2 },
    });
    expect(readClientMessage(text('{"type":"viewport","w":-1,"h":600}'), false)).toEqual({ kind: 'ignored' });
  });

  it('reads a v2 report of how well the screen keeps time, and ignores one with a bad number', () => {
    const report = { type: 'report', offsetMs: -3_600_000.5, rttMs: 4.2, errorMs: 2.1, shown: 120, late: 1 };
    expect(readClientMessage(text(JSON.stringify(report)), false)).toEqual({ kind: 'report', report });
    for (const bad of [
      { ...report, rttMs: -1 },
      { ...report, errorMs: 'small' },
      { ...report, late: 1.5 },
      { ...report, shown: -2 },
      { ...report, offsetMs: null },
      { type: 'report' },
    ]) {
      expect(readClientMessage(text(JSON.stringify(bad)), false), JSON.stringify(bad)).toEqual({ kind: 'ignored' });
    }
  });

  it('takes the seed keep-alive as nothing, and everything else outside the protocol as ignored', () => {
    expect(readClientMessage(text('ping'), false)).toEqual({ kind: 'keep-alive' });
    for (const junk of ['', 'null', '[]', '{"type":"ping"}', '{"type":"ping","t0":"soon"}', '{"type":"other"}', 'not json']) {
      expect(readClientMessage(text(junk), false), junk).toEqual({ kind: 'ignored' });
    }
    expect(readClientMessage(text('{"type":"ping","t0":1}'), true)).toEqual({ kind: 'ignored' });
  });

  it('is too big past the protocol limit, whatever it holds', () => {
    expect(readClientMessage(text('x'.repeat(MAX_CLIENT_MESSAGE_BYTES)), false)).toEqual({ kind: 'ignored' });
    expect(readClientMessage(text('x'.repeat(MAX_CLIENT_MESSAGE_BYTES + 1)), false)).toEqual({ kind: 'too-big' });
  });
});
