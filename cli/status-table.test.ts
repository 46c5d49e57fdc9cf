import { describe, expect, it } from 'vitest';
import { formatStatusTable } from './status-table.js';

const at = Date.parse('2025-06-01T18:30:00.000Z');
const local = new Date(at).toLocaleTimeString('en-GB', { hour12: false });
const canvas = (slug: string, extra: Record<string, unknown> = {}) => ({
  slug,
  state: 'streaming',
  source: { kind: 'folder', state: 'ok' },
  displays: 1,
  lastFrame: { timestamp: new Date(at).toISOString() },
  ...extra,
});

describe('formatStatusTable', () => {
  it('lines up one row per canvas under the headers, displays right-aligned', () => {
    const table = formatStatusTable(
      [canvas('left-canva', { displays: 12 }), canvas('b', { state: 'paused', lastFrame: null })],
      at + 4_000,
    );
    expect(table.split('\n')).toEqual([
      'SLUG        STATE      SOURCE  DISPLAYS  LAST FRAME',
      `left-canva  streaming  folder        12  ${local} (4s ago)`,
      'b           paused     folder         1  never',
    ]);
  });

  it('accepts { canvases: [...] } and a single canvas as well as an array', () => {
    expect(formatStatusTable({ canvases: [canvas('a')] }, at)).toContain('\na ');
    expect(formatStatusTable(canvas('solo'), at)).toContain('\nsolo ');
  });

  it('says how long ago in seconds, minutes, hours or days', () => {
    const ago = (ms: number) => formatStatusTable([canvas('a')], at + ms).split('\n')[1];
    expect(ago(119_000)).toContain('(119s ago)');
    expect(ago(30 * 60_000)).toContain('(30m ago)');
    expect(ago(5 * 3_600_000)).toContain('(5h ago)');
    expect(ago(3 * 86_400_000)).toContain('(3d ago)');
  });

  it('marks a source in trouble and lists its reason, code and hint under the table', () => {
    const sick = canvas('lobby', {
      source: {
        kind: 'inference',
        state: 'degraded',
        code: 'EASEL_ERR_INFERENCE_UNAVAILABLE',
        reason: 'No inference service answers',
        hint: 'Start the inference service',
      },
    });
    const lines = formatStatusTable([sick], at).split('\n');
    expect(lines[1]).toMatch(/^lobby +streaming +inference \(degraded\) +1 /);
    expect(lines.slice(2)).toEqual([
      '',
      'lobby: No inference service answers [EASEL_ERR_INFERENCE_UNAVAILABLE]',
      '  Start the inference service',
    ]);
  });

  it('says so when there are no canvases, and refuses a body that is not a list', () => {
    expect(formatStatusTable([], at)).toMatch(/^No canvases yet/);
    expect(() => formatStatusTable('nope', at)).toThrow('Expected a list of canvases for the status table but received "nope"');
  });
});

describe('formatStatusTable for one canvas', () => {
  it('puts the table of its screens under the canvas row', () => {
    const one = canvas('lobby', {
      displayList: [{ id: 4, address: '10.0.0.9', wire: 'v1', rendition: 'jpeg-1024', clockOffsetMs: -3_720_000, sync: null }],
    });
    expect(formatStatusTable(one, at).split('\n').slice(2)).toEqual([
      '',
      'Screens (1), worst first:',
      'SCREEN    PROTOCOL  RENDITION  CLOCK OFFSET  ROUND TRIP  ERROR  LATE/SHOWN  NOTE',
      '10.0.0.9  v1        jpeg-1024    \u22121 h 2 min           -      -           -  no sync report (seed or v1 client)',
    ]);
  });
});
