/**
 * Names of archived frames, as docs/archive.md fixes them: a folder per canvas and per day, files
 * named `HHMMSSmmm-<hash8>` in server local time, and the id `<canvas>.<YYYYMMDD>.<HHMMSSmmm>-<hash8>`
 * that names its files, so an id stays valid after the index is rebuilt from the folders.
 */
import { createHash } from 'node:crypto';
import { SLUG_PATTERN } from '../canvas/slug.js';

/** `HHMMSSmmm-<8 hex>`: the name of an entry's files without the extension. */
export const ENTRY_NAME = /^\d{9}-[0-9a-f]{8}$/;
/** A day folder, `YYYY-MM-DD`. */
export const DAY_FOLDER = /^\d{4}-\d{2}-\d{2}$/;
const ID_PATTERN = /^([a-z0-9][a-z0-9-]{0,62})\.(\d{4})(\d{2})(\d{2})\.(\d{9}-[0-9a-f]{8})$/;

const EXTENSIONS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpg',
  'image/webp': 'webp',
  'image/avif': 'avif',
  'image/gif': 'gif',
  'image/tiff': 'tif',
};
/** The image extensions an entry may have. */
export const IMAGE_EXTENSIONS = new Set(Object.values(EXTENSIONS));

/** The mime type of an image as sharp's metadata describes it, for the formats the archive keeps. */
export function mimeOfFormat(format: string | undefined, compression?: string): string | undefined {
  if (format === 'png') return 'image/png';
  if (format === 'jpeg' || format === 'jpg') return 'image/jpeg';
  if (format === 'webp') return 'image/webp';
  if (format === 'heif' && compression === 'av1') return 'image/avif';
  if (format === 'gif') return 'image/gif';
  if (format === 'tiff') return 'image/tiff';
  return undefined;
}

export function extensionOf(mime: string): string {
  const ext = EXTENSIONS[mime];
  if (!ext) throw new Error(`No archive extension for ${mime}`);
  return ext;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** The server-local day and time of an instant: `2026-12-01`, `20261201`, `190512345`. */
export function localStamp(ms: number): { day: string; compactDay: string; time: string } {
  const d = new Date(ms);
  const y = pad(d.getFullYear(), 4);
  const m = pad(d.getMonth() + 1);
  const day = pad(d.getDate());
  const time = `${pad(d.getHours())}${pad(d.getMinutes())}${pad(d.getSeconds())}${pad(d.getMilliseconds(), 3)}`;
  return { day: `${y}-${m}-${day}`, compactDay: `${y}${m}${day}`, time };
}

export function hash8(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex').slice(0, 8);
}

export interface EntryNames {
  id: string;
  /** Folder of the entry, relative to the archive: `wall-1/2026-12-01`. */
  folder: string;
  /** `190512345-ab12cd34` */
  name: string;
  /** The image, relative to the archive: `wall-1/2026-12-01/190512345-ab12cd34.png`. */
  file: string;
  /** The metadata, relative to the archive. */
  metaFile: string;
}

/** The id and files of a frame of `canvas` made at `madeAtMs` with bytes hashing to `hash`. */
export function entryNames(canvas: string, madeAtMs: number, hash: string, mime: string): EntryNames {
  const { day, compactDay, time } = localStamp(madeAtMs);
  const name = `${time}-${hash}`;
  const folder = `${canvas}/${day}`;
  return {
    id: `${canvas}.${compactDay}.${name}`,
    folder,
    name,
    file: `${folder}/${name}.${extensionOf(mime)}`,
    metaFile: `${folder}/${name}.json`,
  };
}

/** The parts of a well-formed id, or undefined: ids come from URLs, so anything may arrive. */
export function parseArchiveId(id: string): { canvas: string; folder: string; name: string; metaFile: string } | undefined {
  if (id.length > 100) return undefined;
  const m = ID_PATTERN.exec(id);
  if (!m) return undefined;
  const [, canvas, y, mo, d, name] = m as unknown as [string, string, string, string, string, string];
  const folder = `${canvas}/${y}-${mo}-${d}`;
  return { canvas, folder, name, metaFile: `${folder}/${name}.json` };
}

/** The id of the entry whose metadata is `<canvas>/<YYYY-MM-DD>/<name>.json`. */
export function idOfFiles(canvas: string, day: string, name: string): string | undefined {
  if (!SLUG_PATTERN.test(canvas) || !DAY_FOLDER.test(day) || !ENTRY_NAME.test(name)) return undefined;
  return `${canvas}.${day.replaceAll('-', '')}.${name}`;
}
