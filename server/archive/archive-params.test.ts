import { describe, expect, it } from 'vitest';
import { isEaselError } from '../errors.js';
import { checkArchiveId, parseFilters, parseListParams } from './archive-params.js';

const list = (q: string) => parseListParams(new URLSearchParams(q));
/** The field a refused query names, and its message. */
const refusal = (run: () => unknown): { field: unknown; message: string } => {
  try {
    run();
  } catch (err) {
    if (isEaselError(err) && err.code === 'EASEL_ERR_REQUEST_INVALID') return { field: err.details.field, message: err.message };
    throw err;
  }
  throw new Error('expected a refusal');
};

describe('archive ids', () => {
  it('takes the id shape the contract gives', () => {
    expect(checkArchiveId('wall-1.20261201.190512345-ab12cd34')).toBe('wall-1.20261201.190512345-ab12cd34');
  });

  it.each([
    '',
    '../etc/passwd',
    '..%2F..%2Fetc%2Fpasswd',
    'wall-1/../../x.20261201.190512345-ab12cd34',
    'wall-1.20261201.190512345-ab12cd34/',
    'wall-1.20261201.190512345-AB12CD34',
    'Wall.20261201.190512345-ab12cd34',
    'wall-1.2026120.190512345-ab12cd34',
    'wall-1.20261201.190512345-ab12cd3',
    'wall-1.20261201.190512345-ab12cd34.png',
    `${'a'.repeat(64)}.20261201.190512345-ab12cd34`,
    'wall-1.20261201.190512345-ab12cd34\n',
  ])('refuses %j before any file is touched', (id) => {
    expect(refusal(() => checkArchiveId(id)).field).toBe('id');
  });
});

describe('list parameters', () => {
  it('defaults to 50 newest of everything', () => {
    expect(list('')).toEqual({ query: {}, limit: 50 });
  });

  it('reads every filter', () => {
    const parsed = list(
      'canvas=wall-1&from=2026-12-01T18:00:00Z&to=2026-12-01T20:00:00.5Z&q=%20foggy%20harbour%20&starred=true&limit=200&cursor=abc_-',
    );
    expect(parsed).toEqual({
      query: {
        canvas: 'wall-1',
        from: Date.UTC(2026, 11, 1, 18),
        to: Date.UTC(2026, 11, 1, 20, 0, 0, 500),
        text: 'foggy harbour',
        starred: true,
      },
      limit: 200,
      cursor: 'abc_-',
    });
  });

  it('reads a time without a zone, and a day, in server local time', () => {
    expect(list('from=2026-12-01T18:30').query.from).toBe(new Date(2026, 11, 1, 18, 30).getTime());
    expect(list('to=2026-12-01').query.to).toBe(new Date(2026, 11, 1).getTime());
    expect(list('from=2026-12-01T18:00+02:00').query.from).toBe(Date.UTC(2026, 11, 1, 16));
    expect(list('day=2026-12-01').query).toEqual({ from: new Date(2026, 11, 1).getTime(), to: new Date(2026, 11, 2).getTime() });
  });

  it('narrows a day by from and to', () => {
    const from = new Date(2026, 11, 1, 20).getTime();
    expect(list('day=2026-12-01&from=2026-12-01T20:00&to=2026-12-05').query).toEqual({ from, to: new Date(2026, 11, 2).getTime() });
  });

  it.each([
    ['limit=0', 'limit'],
    ['limit=201', 'limit'],
    ['limit=100000', 'limit'],
    ['limit=1.5', 'limit'],
    ['limit=-1', 'limit'],
    ['limit=ten', 'limit'],
    ['limit=', 'limit'],
    ['limit=1&limit=2', 'limit'],
    ['canvas=Wall', 'canvas'],
    ['canvas=../x', 'canvas'],
    ['canvas=', 'canvas'],
    ['from=yesterday', 'from'],
    ['from=2026-13-01T00:00', 'from'],
    ['from=2026-02-30', 'from'],
    ['to=2026-12-01T25:00', 'to'],
    ['to=2026-12-01T10:00+19:00', 'to'],
    ['from=2026-12-02&to=2026-12-01', 'to'],
    ['day=2026-12-1', 'day'],
    ['day=2026-02-30', 'day'],
    ['day=today', 'day'],
    ['starred=yes', 'starred'],
    [`q=${'word '.repeat(200)}`, 'q'],
    ['cursor=%00', 'cursor'],
    [`cursor=${'a'.repeat(400)}`, 'cursor'],
    ['stared=true', 'stared'],
  ])('refuses %s naming %s', (q, field) => {
    const { field: named, message } = refusal(() => list(q));
    expect(named).toBe(field);
    expect(message.startsWith(`${field}: `)).toBe(true);
  });

  it('takes the token a display brings, and the export takes no paging', () => {
    expect(list('token=abc&canvas=wall').query).toEqual({ canvas: 'wall' });
    expect(refusal(() => parseFilters(new URLSearchParams('limit=5'), ['cursor'])).field).toBe('limit');
    expect(parseFilters(new URLSearchParams('cursor=x&starred=false'), ['cursor'])).toEqual({ starred: false });
  });
});
