/**
 * `easel timelapse`: one canvas's archived frames in a time range, oldest first, made into an
 * H.264 video by ffmpeg. The server need not run: the archive folder is opened read-only (no
 * clean-up, no index rewrite), so it is safe beside a server writing to it. Each frame is decoded and fitted to one size by sharp (frames may
 * differ in size and format) and piped to ffmpeg as raw RGB, one at a time with back-pressure,
 * so a night of frames never sits in memory and the video has exactly one frame per entry.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import pino from 'pino';
import sharp from 'sharp';
import type { ArchiveStore } from '../server/archive/archive-entry.js';
import { createArchiveStore } from '../server/archive/archive-store.js';
import { loadConfig } from '../server/config.js';
import { systemClock } from '../server/stream/clock.js';
import type { CliCommand } from './args.js';
import type { CliIo } from './run.js';

export interface TimelapseOptions {
  /** The archive folder. */
  archiveDir: string;
  canvas: string;
  /** Epoch ms, inclusive, on `madeAt`. */
  from: number;
  /** Epoch ms, exclusive. */
  to: number;
  fps: number;
  /** Width of the video; default: the first frame's. The height follows the first frame's shape. */
  width?: number;
  /** The video file to write (mp4). */
  out: string;
  /** The ffmpeg to run; default "ffmpeg", found on PATH in `env`. */
  ffmpeg?: string;
  env?: Record<string, string | undefined>;
  /** One line per notice (frames skipped, progress). */
  log?: (line: string) => void;
}

/** Something the technician can fix: printed as one line, exit code 1. */
export class TimelapseError extends Error {
  override readonly name = 'TimelapseError';
}

export const NO_FFMPEG = 'ffmpeg is not installed (or not on PATH); install it with: sudo apt install ffmpeg (Debian package ffmpeg)';

/** Rounds down to an even number, at least 2: yuv420p needs even dimensions. */
const even = (n: number) => Math.max(2, Math.floor(n / 2) * 2);

/**
 * Makes the video; resolves with the number of frames in it.
 *
 * @example
 * await makeTimelapse({ archiveDir: 'archive', canvas: 'wall-1', from, to, fps: 12, out: 'night.mp4' }); // 2880
 */
export async function makeTimelapse(options: TimelapseOptions): Promise<{ frames: number; width: number; height: number }> {
  const store = await openArchive(options.archiveDir, options.canvas);
  try {
    return await encode(options, store);
  } finally {
    await store.close();
  }
}

async function encode(options: TimelapseOptions, store: ArchiveStore): Promise<{ frames: number; width: number; height: number }> {
  // Newest first from the store: the entries' metadata (not their images) is turned round in memory.
  const entries = [...store.select({ canvas: options.canvas, from: options.from, to: options.to })].reverse();
  const first = entries[0];
  if (!first) {
    const range = `${new Date(options.from).toISOString()} to ${new Date(options.to).toISOString()}`;
    throw new TimelapseError(`No archived frames of "${options.canvas}" were made from ${range} (in ${store.dir})`);
  }
  const width = even(options.width ?? first.width);
  const height = even((width * first.height) / first.width);
  const ffmpeg = await startFfmpeg(options, width, height);
  let count = 0;
  let skipped = 0;
  let stopped = false;
  void ffmpeg.exited.then(() => (stopped = true));
  try {
    // ffmpeg stopping early (a bad output path) ends the loop; its exit code says why.
    for (const entry of entries) {
      if (stopped) break;
      const rgb = await frameOf(store.imagePath(entry), width, height);
      if (!rgb) {
        // Removed by retention since the index was read, or unreadable: the video goes on without it.
        if (++skipped <= 5) options.log?.(`Skipping archived frame "${entry.id}": its image cannot be read`);
        continue;
      }
      if (!ffmpeg.stdin.write(rgb)) await Promise.race([once(ffmpeg.stdin, 'drain'), ffmpeg.exited]);
      count += 1;
    }
    ffmpeg.stdin.end();
    const code = await ffmpeg.exited;
    if (code !== 0) throw new TimelapseError(`ffmpeg failed (exit code ${code}): ${ffmpeg.stderr().trim() || 'no message'}`);
  } catch (err) {
    ffmpeg.kill();
    await rm(options.out, { force: true });
    throw err;
  }
  if (count === 0) {
    await rm(options.out, { force: true });
    throw new TimelapseError(`None of the ${entries.length} archived frames of "${options.canvas}" in the range can be read`);
  }
  return { frames: count, width, height };
}

/** One frame as raw RGB at the video's size (letterboxed on black); undefined when it cannot be read. */
async function frameOf(file: string, width: number, height: number): Promise<Buffer | undefined> {
  try {
    return await sharp(file, { limitInputPixels: false })
      .flatten({ background: '#000000' })
      .resize(width, height, { fit: 'contain', background: '#000000' })
      .removeAlpha()
      .raw()
      .toBuffer();
  } catch {
    return undefined;
  }
}

/** The archive opened read-only, once the canvas is known to have a folder in it. */
async function openArchive(dir: string, canvas: string): Promise<ArchiveStore> {
  const where = path.resolve(dir);
  if (
    !(await stat(where)
      .then((s) => s.isDirectory())
      .catch(() => false))
  )
    throw new TimelapseError(`No archive folder "${where}": pass --archive DIR (the server's archive.dir)`);
  const canvases = (await readdir(where, { withFileTypes: true }))
    .filter((d) => d.isDirectory() && !d.name.startsWith('.') && d.name !== 'plays')
    .map((d) => d.name)
    .sort();
  if (!canvases.includes(canvas)) {
    const known = canvases.length === 0 ? 'it holds no canvas yet' : `it has ${canvases.map((c) => `"${c}"`).join(', ')}`;
    throw new TimelapseError(`No archived frames of canvas "${canvas}" in "${where}"; ${known}`);
  }
  const store = createArchiveStore({
    dir: where,
    readOnly: true,
    maxBytes: 0,
    maxAgeDays: 0,
    minFreeBytes: 0,
    clock: systemClock,
    // The store's notices (an image without metadata...) are for the server's log, not this terminal.
    logger: pino({ level: 'silent' }),
  });
  await store.open();
  return store;
}

interface Encoder {
  stdin: NodeJS.WritableStream & { end(): void };
  /** Resolves with ffmpeg's exit code. */
  exited: Promise<number>;
  stderr(): string;
  kill(): void;
}

/** Spawns ffmpeg reading raw RGB frames from stdin; a missing ffmpeg is a TimelapseError saying how to install it. */
async function startFfmpeg(options: TimelapseOptions, width: number, height: number): Promise<Encoder> {
  const args = [
    ...['-hide_banner', '-loglevel', 'error', '-y'],
    ...['-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${width}x${height}`, '-framerate', String(options.fps), '-i', 'pipe:0'],
    ...['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-r', String(options.fps), '-movflags', '+faststart', options.out],
  ];
  const child = spawn(options.ffmpeg ?? 'ffmpeg', args, { stdio: ['pipe', 'ignore', 'pipe'], env: options.env ?? process.env });
  const spawned = once(child, 'spawn').then(
    () => undefined,
    (err: NodeJS.ErrnoException) => err,
  );
  const failure = await spawned;
  if (failure) throw new TimelapseError(failure.code === 'ENOENT' ? NO_FFMPEG : `ffmpeg cannot be started: ${failure.message}`);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    if (stderr.length < 4000) stderr += chunk;
  });
  // ffmpeg may stop reading (a bad output path): the write error is its exit code's to report.
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  return { stdin: child.stdin, exited, stderr: () => stderr, kill: () => child.kill('SIGKILL') };
}

/**
 * The archive folder when --archive is not given: the server's archive.dir as its config says
 * (config file, EASEL_ARCHIVE_DIR), else ./archive. "" (archive off) is a TimelapseError.
 */
export function configuredArchiveDir(env: Record<string, string | undefined>): string {
  let dir: string;
  try {
    dir = loadConfig({ env, argv: [] }).archive.dir;
  } catch {
    // A config the server would refuse for other reasons still names no other folder: use the default.
    dir = env.EASEL_ARCHIVE_DIR ?? 'archive';
  }
  if (dir === '') throw new TimelapseError('The archive is off here (archive.dir is ""): pass --archive DIR, the folder to read');
  return dir;
}

/** `easel timelapse ...`: exit code 0 with the video written, 1 with one line saying what is wrong. */
export async function runTimelapse(command: Extract<CliCommand, { name: 'timelapse' }>, io: CliIo): Promise<number> {
  const started = Date.now();
  try {
    const archiveDir = command.archive ?? configuredArchiveDir(io.env);
    const made = await makeTimelapse({
      archiveDir,
      canvas: command.canvas,
      from: command.from,
      to: command.to,
      fps: command.fps,
      ...(command.width !== undefined && { width: command.width }),
      out: command.out,
      env: io.env,
      log: (line) => io.stderr.write(`easel: ${line}\n`),
    });
    const seconds = made.frames / command.fps;
    io.stdout.write(
      `Wrote ${command.out}: ${made.frames} frames of "${command.canvas}", ${made.width}x${made.height}, ${seconds.toFixed(1)} s at ${command.fps} fps (took ${((Date.now() - started) / 1000).toFixed(1)} s)\n`,
    );
    return 0;
  } catch (err) {
    io.stderr.write(`easel: ${err instanceof Error ? err.message : String(err)}\n`);
    return 1;
  }
}
