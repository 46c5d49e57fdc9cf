import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterEach, describe, expect, it } from 'vitest';
import { ARCHIVE_T0, archiveDir, archiveStoreFor, frameFor, removeArchiveDirs } from '../test/support/archive-fixtures.js';
import { runCli } from './run.js';
import { NO_FFMPEG } from './timelapse.js';

/**
 * The time-lapse made from an archive the real store wrote, encoded by Debian's ffmpeg and
 * checked with ffprobe (.ci/run installs both).
 */
const run = promisify(execFile);
const iso = (ms: number) => new Date(ms).toISOString();

/** Frame i is grey level 14 * i (so the video's order can be read back), in a size and format of its own. */
async function greyImage(i: number): Promise<Buffer> {
  const [width, height] = i % 3 === 0 ? [160, 120] : i % 3 === 1 ? [320, 240] : [200, 200];
  const image = sharp({ create: { width, height, channels: 3, background: { r: 14 * i, g: 14 * i, b: 14 * i } } });
  return i % 2 === 0 ? image.png().toBuffer() : image.jpeg({ quality: 95 }).toBuffer();
}

/** An archive holding `count` frames of wall-1 a minute apart from ARCHIVE_T0, written out of order, plus others around them. */
async function archiveWith(count: number): Promise<string> {
  const dir = archiveDir();
  const { store } = archiveStoreFor(dir);
  await store.open();
  const order = Array.from({ length: count }, (_, i) => i).reverse();
  for (const i of order) await store.write(frameFor('wall-1', await greyImage(i), ARCHIVE_T0 + i * 60_000));
  // Outside the range, or another canvas: not in the video.
  await store.write(frameFor('wall-1', await greyImage(17), ARCHIVE_T0 - 60_000));
  await store.write(frameFor('wall-1', await greyImage(17), ARCHIVE_T0 + count * 60_000));
  await store.write(frameFor('wall-2', await greyImage(3), ARCHIVE_T0 + 60_000));
  await store.close();
  return dir;
}

function io(env: Record<string, string | undefined> = process.env) {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { env, stdout: { write: (t: string) => out.push(t) }, stderr: { write: (t: string) => err.push(t) } }, out, err };
}

function outFile(name = 'night.mp4'): string {
  return path.join(mkdtempSync(path.join(tmpdir(), 'easel-timelapse-')), name);
}

/** The grey level at the middle of each decoded frame of a video, in order (the edges may be letterboxed). */
async function frameLevels(video: string): Promise<number[]> {
  const { stdout } = await run('ffmpeg', ['-v', 'error', '-i', video, '-vf', 'scale=8:8', '-f', 'rawvideo', '-pix_fmt', 'gray', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 1 << 24,
  });
  const levels: number[] = [];
  for (let at = 0; at + 64 <= stdout.length; at += 64)
    levels.push((stdout[at + 27]! + stdout[at + 28]! + stdout[at + 35]! + stdout[at + 36]!) / 4);
  return levels;
}

afterEach(removeArchiveDirs);

describe('easel timelapse', () => {
  it('makes an H.264 video with one frame per archived frame in the range, oldest first, at one even size', async () => {
    const count = 18;
    const dir = await archiveWith(count);
    const video = outFile();
    const { io: cliIo, out, err } = io();
    const argv = ['timelapse', '--canvas', 'wall-1', '--from', iso(ARCHIVE_T0), '--to', iso(ARCHIVE_T0 + count * 60_000)];
    const code = await runCli([...argv, '--fps', '12', '--archive', dir, '--width', '321', video], cliIo);
    expect(err.join('')).toBe('');
    expect(code).toBe(0);
    expect(out.join('')).toContain(`${count} frames of "wall-1"`);

    const { stdout } = await run('ffprobe', [
      ...['-v', 'error', '-count_frames', '-select_streams', 'v:0'],
      ...['-show_entries', 'stream=codec_name,pix_fmt,width,height,nb_read_frames,avg_frame_rate', '-of', 'json', video],
    ]);
    const stream = (JSON.parse(stdout) as { streams: Array<Record<string, string | number>> }).streams[0]!;
    expect(stream).toMatchObject({ codec_name: 'h264', pix_fmt: 'yuv420p', width: 320, height: 240, avg_frame_rate: '12/1' });
    expect(Number(stream.nb_read_frames)).toBe(count);

    // Written newest first, played oldest first: grey levels 0, 14, 28... (H.264 and YUV shift them a little).
    const levels = await frameLevels(video);
    expect(levels).toHaveLength(count);
    levels.forEach((level, i) => expect(Math.abs(level - 14 * i), `frame ${i}: level ${level}`).toBeLessThan(10));
    for (let i = 1; i < count; i++) expect(levels[i]!, `frame ${i} after frame ${i - 1}`).toBeGreaterThan(levels[i - 1]!);
  }, 60_000);

  it('opens the archive read-only: a left-over temporary file of a server writing beside it stays', async () => {
    const dir = await archiveWith(2);
    const temp = path.join(dir, 'wall-1', 'in-flight.png.tmp');
    writeFileSync(temp, 'half an image');
    const { io: cliIo } = io();
    const argv = ['timelapse', '--canvas', 'wall-1', '--from', iso(ARCHIVE_T0), '--to', iso(ARCHIVE_T0 + 120_000)];
    expect(await runCli([...argv, '--archive', dir, outFile()], cliIo)).toBe(0);
    expect(existsSync(temp)).toBe(true);
  }, 60_000);

  it('without ffmpeg on PATH says in one line how to install it, exits 1 and writes nothing', async () => {
    const dir = await archiveWith(2);
    // A PATH with everything but ffmpeg: node itself is still found.
    const bin = mkdtempSync(path.join(tmpdir(), 'easel-no-ffmpeg-'));
    symlinkSync(process.execPath, path.join(bin, 'node'));
    const video = outFile();
    const { io: cliIo, err } = io({ ...process.env, PATH: bin });
    const argv = ['timelapse', '--canvas', 'wall-1', '--from', iso(ARCHIVE_T0), '--to', iso(ARCHIVE_T0 + 120_000)];
    expect(await runCli([...argv, '--archive', dir, video], cliIo)).toBe(1);
    expect(err).toEqual([`easel: ${NO_FFMPEG}\n`]);
    expect(NO_FFMPEG).toContain('sudo apt install ffmpeg');
    expect(existsSync(video)).toBe(false);
  }, 30_000);

  it('says so and exits 1 when no frame is in the range, the canvas has none, or there is no archive', async () => {
    const dir = await archiveWith(2);
    const cases: Array<[string[], RegExp]> = [
      [
        ['--canvas', 'wall-1', '--from', '2027-01-01', '--to', '2027-01-02', '--archive', dir],
        /No archived frames of "wall-1" were made from 2027-01-01/,
      ],
      [
        ['--canvas', 'wall-9', '--from', '2026-01-01', '--to', '2027-01-02', '--archive', dir],
        /No archived frames of canvas "wall-9" .*it has "wall-1", "wall-2"/,
      ],
      [
        ['--canvas', 'wall-1', '--from', '2026-01-01', '--to', '2027-01-02', '--archive', path.join(dir, 'nope')],
        /No archive folder ".*nope": pass --archive DIR/,
      ],
    ];
    for (const [args, message] of cases) {
      const video = outFile();
      const { io: cliIo, err } = io();
      expect(await runCli(['timelapse', ...args, video], cliIo)).toBe(1);
      expect(err).toHaveLength(1);
      expect(err[0]).toMatch(message);
      expect(existsSync(video)).toBe(false);
    }
  }, 30_000);

  it('takes the archive folder from EASEL_ARCHIVE_DIR when --archive is not given, and refuses an archive turned off', async () => {
    const dir = await archiveWith(1);
    const argv = ['timelapse', '--canvas', 'wall-1', '--from', iso(ARCHIVE_T0), '--to', iso(ARCHIVE_T0 + 60_000), outFile()];
    const on = io({ ...process.env, EASEL_ARCHIVE_DIR: dir });
    expect(await runCli(argv, on.io)).toBe(0);
    expect(on.out.join('')).toContain('1 frames of "wall-1"');
    const off = io({ ...process.env, EASEL_ARCHIVE_DIR: '' });
    expect(await runCli(argv, off.io)).toBe(1);
    expect(off.err.join('')).toContain('The archive is off here (archive.dir is ""): pass --archive DIR');
  }, 30_000);
});
