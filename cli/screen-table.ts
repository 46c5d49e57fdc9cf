/**
 * The screens of one canvas under `easel status <slug>`: how each keeps time (protocol/
 * screen-sync.ts judges them, as the operator console does), worst first. Pure.
 */
import {
  count,
  formatClockOffset,
  formatDuration,
  judgeScreen,
  readScreenList,
  ScreenHealth,
  screenHealth,
  screenName,
  screensWorstFirst,
  wireWords,
} from '../protocol/screen-sync.js';

const HEADERS = ['SCREEN', 'PROTOCOL', 'RENDITION', 'CLOCK OFFSET', 'ROUND TRIP', 'ERROR', 'LATE/SHOWN', 'NOTE'] as const;
/** Right-aligned: numbers line up on their last digit. */
const NUMERIC = new Set<string>(['CLOCK OFFSET', 'ROUND TRIP', 'ERROR', 'LATE/SHOWN']);

/** A terminal holds this many rows before the worst ones scroll away; `--json` lists them all. */
export const SCREEN_ROWS = 50;

/**
 * The screens table of a `GET /api/canvases/:slug` body, or undefined when the body has no
 * `displayList` (a list of canvases, or an older server). A marked screen's name starts with `!`.
 *
 * @example
 * formatScreenTable({ slug: 'lobby', displayList: [{ id: 3, address: '10.0.0.5', wire: 'v2', rendition: 'webp-1920',
 *   clockOffsetMs: 3200, sync: { rttMs: 48, errorMs: 40, framesShown: 400, framesLate: 0, reportedAt: '…' } }] })
 * // Screens (1), worst first:
 * // SCREEN      PROTOCOL  RENDITION  CLOCK OFFSET  ROUND TRIP   ERROR  LATE/SHOWN  NOTE
 * // ! 10.0.0.5  v2        webp-1920        +3.2 s       48 ms  ±40 ms       0/400  this screen's clock is uncertain to ±40 ms: check its network
 */
export function formatScreenTable(body: unknown, limit = SCREEN_ROWS): string | undefined {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { displayList?: unknown }).displayList)) return undefined;
  const screens = screensWorstFirst(readScreenList(body));
  if (screens.length === 0) return 'Screens: none connected';
  const shown = screens.slice(0, limit);
  const rows = shown.map((s) => {
    const verdict = judgeScreen(s);
    const sync = s.sync;
    return [
      `${verdict.health === ScreenHealth.Uncertain ? '! ' : ''}${screenName(s)}`,
      wireWords(s),
      s.rendition ?? '-',
      s.clockOffsetMs === null || s.clockOffsetMs === undefined ? '-' : formatClockOffset(s.clockOffsetMs),
      sync ? formatDuration(sync.rttMs) : '-',
      sync ? `±${formatDuration(sync.errorMs)}` : '-',
      sync ? `${count(sync.framesLate)}/${count(sync.framesShown)}` : '-',
      verdict.note ?? '',
    ];
  });
  const widths = HEADERS.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (NUMERIC.has(HEADERS[i]!) ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  const marked = screens.filter((s) => screenHealth(s) === ScreenHealth.Uncertain).length;
  const title = `Screens (${count(screens.length)}${marked > 0 ? `, ${count(marked)} marked !` : ''}), worst first:`;
  const out = [title, line(HEADERS), ...rows.map(line)];
  if (screens.length > shown.length) out.push(`… and ${count(screens.length - shown.length)} more (--json lists them all)`);
  return out.join('\n');
}
