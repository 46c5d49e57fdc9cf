import { formatScreenTable } from './screen-table.js';

/**
 * `easel status` as a compact table a technician reads at a glance on a small terminal, and the
 * problems under it. Pure: the canvases and the time come in, a string goes out.
 */

/** The parts of GET /api/canvases the table reads; the data comes over the wire, so all optional. */
interface CanvasRow {
  slug?: unknown;
  state?: unknown;
  displays?: unknown;
  source?: { kind?: unknown; state?: unknown; reason?: unknown; hint?: unknown; code?: unknown } | null;
  lastFrame?: { timestamp?: unknown } | null;
}

const HEADERS = ['SLUG', 'STATE', 'SOURCE', 'DISPLAYS', 'LAST FRAME'] as const;

/**
 * Accepts the body of GET /api/canvases (an array, or `{ canvases: [...] }`) or of
 * GET /api/canvases/:slug (one canvas, then its screens: cli/screen-table.ts).
 *
 * @example
 * formatStatusTable([{ slug: 'lobby', state: 'streaming', source: { kind: 'folder', state: 'ok' }, displays: 2,
 *   lastFrame: { timestamp: '2025-01-01T18:30:00.000Z' } }], Date.parse('2025-01-01T18:30:04Z'))
 * // SLUG   STATE      SOURCE  DISPLAYS  LAST FRAME
 * // lobby  streaming  folder         2  18:30:00 (4s ago)      (times in the local zone)
 */
export function formatStatusTable(body: unknown, now: number): string {
  const canvases = canvasList(body);
  if (canvases.length === 0) return 'No canvases yet: a display opening /c/<slug> creates one, or declare them in the config';
  const rows = canvases.map((c) => [
    text(c.slug),
    text(c.state),
    sourceLabel(c.source),
    typeof c.displays === 'number' ? String(c.displays) : '-',
    lastFrameLabel(c.lastFrame, now),
  ]);
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (HEADERS[i] === 'DISPLAYS' ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const out = [line(HEADERS), ...rows.map(line)];

  const problems = canvases.filter((c) => c.source && c.source.state !== 'ok' && typeof c.source.reason === 'string');
  if (problems.length > 0) out.push('');
  for (const c of problems) {
    const code = typeof c.source?.code === 'string' ? ` [${c.source.code}]` : '';
    out.push(`${text(c.slug)}: ${text(c.source?.reason)}${code}`);
    if (typeof c.source?.hint === 'string') out.push(`  ${c.source.hint}`);
  }
  // One canvas (`easel status <slug>`): its screens and how each keeps time.
  const screens = formatScreenTable(body);
  if (screens !== undefined) out.push('', screens);
  return out.join('\n');
}

function canvasList(body: unknown): CanvasRow[] {
  if (Array.isArray(body)) return body as CanvasRow[];
  if (typeof body === 'object' && body !== null) {
    const { canvases } = body as { canvases?: unknown };
    if (Array.isArray(canvases)) return canvases as CanvasRow[];
    if ('slug' in body) return [body as CanvasRow];
  }
  throw new TypeError(`Expected a list of canvases for the status table but received ${JSON.stringify(body)?.slice(0, 80)}`);
}

function sourceLabel(source: CanvasRow['source']): string {
  if (!source) return '-';
  const kind = text(source.kind);
  return source.state === undefined || source.state === 'ok' ? kind : `${kind} (${text(source.state)})`;
}

function lastFrameLabel(lastFrame: CanvasRow['lastFrame'], now: number): string {
  const at = typeof lastFrame?.timestamp === 'string' ? Date.parse(lastFrame.timestamp) : NaN;
  if (Number.isNaN(at)) return 'never';
  const time = new Date(at).toLocaleTimeString('en-GB', { hour12: false });
  return `${time} (${age(Math.max(0, now - at))} ago)`;
}

function age(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172_800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86_400)}d`;
}

function text(value: unknown): string {
  return typeof value === 'string' && value !== '' ? value : value === undefined || value === null ? '-' : String(value);
}
