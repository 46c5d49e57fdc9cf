/**
 * A selection of archived frames to play again (a playlist's `archive:` step, or
 * `PUT /api/canvases/:slug/source` with `{"type": "archive"}`), and taking it from the store:
 * oldest first, as a folder plays its files in name order (archive file names are times).
 */
import { z } from 'zod';
import { EaselError } from '../errors.js';
import { fields } from '../input/fields.js';
import type { ArchiveEntry, ArchiveQuery, ArchiveStore } from './archive-entry.js';
import { parseArchiveTime } from './archive-time.js';

/** Which frames: one canvas's, optionally only starred ones, optionally in [from, to) on `madeAt`. */
export interface ArchiveSelection {
  canvas: string;
  starred?: boolean;
  /** Epoch ms, inclusive. */
  from?: number;
  /** Epoch ms, exclusive. */
  to?: number;
}

/** The selection as a person writes it: the fields of a playlist step's `archive:` map. */
export const archiveSelectionFields = z.object({
  canvas: fields.canvas,
  starred: fields.starred.optional(),
  from: fields.from.optional(),
  to: fields.to.optional(),
});

/** The source command: `{"type": "archive", "canvas": "wall-1", "starred": true, "order": "shuffle"}`. */
export const archiveSourceCommand = archiveSelectionFields.extend({
  type: z.literal('archive'),
  order: fields.order.optional(),
});
export type ArchiveSourceCommand = z.infer<typeof archiveSourceCommand>;

/** A checked selection from its written form; a `from` not before `to` is a request error. */
export function selectionOf(written: z.infer<typeof archiveSelectionFields>): ArchiveSelection {
  const from = written.from === undefined ? undefined : parseArchiveTime(written.from);
  const to = written.to === undefined ? undefined : parseArchiveTime(written.to);
  if (from !== undefined && to !== undefined && from >= to) {
    throw new EaselError('EASEL_ERR_REQUEST_INVALID', `from: "${written.from}" is not before to: "${written.to}"`, {
      hint: 'Give a "from" time earlier than the "to" time',
    });
  }
  return {
    canvas: written.canvas,
    ...(written.starred !== undefined && { starred: written.starred }),
    ...(from !== undefined && { from }),
    ...(to !== undefined && { to }),
  };
}

/** The selection back in its written form (ISO times, UTC), for commands and status. */
export function writtenSelection(selection: ArchiveSelection): z.infer<typeof archiveSelectionFields> {
  return {
    canvas: selection.canvas,
    ...(selection.starred !== undefined && { starred: selection.starred }),
    ...(selection.from !== undefined && { from: new Date(selection.from).toISOString() }),
    ...(selection.to !== undefined && { to: new Date(selection.to).toISOString() }),
  };
}

/** `wall-1, starred, from 2026-12-01T20:00:00.000Z to 2026-12-01T21:00:00.000Z`: for logs and messages. */
export function describeSelection(selection: ArchiveSelection): string {
  const w = writtenSelection(selection);
  return [w.canvas, w.starred ? 'starred' : '', w.from ? `from ${w.from}` : '', w.to ? `to ${w.to}` : ''].filter(Boolean).join(', ');
}

export const archiveOff = () =>
  new EaselError('EASEL_ERR_REQUEST_INVALID', 'This server keeps no archive (archive.dir is ""), so nothing can be played from it', {
    hint: 'Set archive.dir (EASEL_ARCHIVE_DIR) to the archive folder and restart, or remove the archive step',
  });

const queryOf = (s: ArchiveSelection): ArchiveQuery => ({
  canvas: s.canvas,
  ...(s.starred !== undefined && { starred: s.starred }),
  ...(s.from !== undefined && { from: s.from }),
  ...(s.to !== undefined && { to: s.to }),
});

/** Whether anything matches, without walking the whole selection. */
export function selectionIsEmpty(store: Pick<ArchiveStore, 'select'>, selection: ArchiveSelection): boolean {
  for (const _ of store.select(queryOf(selection))) return false;
  return true;
}

/**
 * The matching entries oldest first, taken now: frames archived later are not in it. Throws
 * EASEL_ERR_NOT_FOUND when none match, so a command never leaves a canvas with nothing to show.
 */
export function takeSelection(store: Pick<ArchiveStore, 'select'> | undefined, selection: ArchiveSelection): ArchiveEntry[] {
  if (!store) throw archiveOff();
  const entries = [...store.select(queryOf(selection))].reverse();
  if (entries.length === 0) {
    throw new EaselError('EASEL_ERR_NOT_FOUND', `No archived frames match (${describeSelection(selection)})`, {
      hint: 'Check the canvas slug, the times (server local time unless they end in Z) and whether any frames are starred',
    });
  }
  return entries;
}

/** What replay reads of the archive: selections and where their images are. */
export type ReplayArchive = Pick<ArchiveStore, 'select' | 'imagePath'>;

/**
 * The archive for replay before it exists: the server opens the store after the registry and the
 * playlists (it listens to the canvases), while they need it only when a step or command runs.
 * undefined when archive.dir is "" (an archive step then fails at its start, saying so).
 */
export function replayArchive(dir: string, store: () => ArchiveStore | undefined): ReplayArchive | undefined {
  if (dir === '') return undefined;
  return {
    select: (query) => store()?.select(query) ?? [],
    imagePath: (entry) => {
      const opened = store();
      if (!opened) throw archiveOff();
      return opened.imagePath(entry);
    },
  };
}
