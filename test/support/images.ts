import sharp from 'sharp';
import { utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';

/** A solid-colour PNG: its pixels are known, so a test can tell frames apart by colour. */
export function solidPng(colour: string, width = 320, height = 240): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } })
    .png()
    .toBuffer();
}

/** A JPEG of deterministic noise: large frames that fill socket buffers quickly. */
export function noisyJpeg(width: number, height: number, seed = 1): Promise<Buffer> {
  const pixels = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < pixels.length; i++) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    pixels[i] = s >> 16;
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .jpeg({ quality: 95 })
    .toBuffer();
}

/** Writes an image with an mtime a minute old, so the folder source treats it as fully copied. */
export function putImage(dir: string, name: string, data: Buffer): string {
  const file = path.join(dir, name);
  writeFileSync(file, data);
  const old = new Date(Date.now() - 60_000);
  utimesSync(file, old, old);
  return file;
}

/** The average colour of an encoded image, as [r, g, b]. */
export async function meanColour(image: Uint8Array): Promise<[number, number, number]> {
  const { channels } = await sharp(image).stats();
  return [channels[0]!.mean, channels[1]!.mean, channels[2]!.mean].map(Math.round) as [number, number, number];
}

/**
 * A PNG of side-by-side colour bands `bandWidth` wide with a `gap`-wide strip of `gapColour`
 * between neighbours: the source frame of a tiled wall whose bezels hide the strips.
 */
export function bandsPng(colours: string[], bandWidth: number, height: number, gap = 0, gapColour = '#ffffff'): Promise<Buffer> {
  const width = colours.length * bandWidth + (colours.length - 1) * gap;
  const band = (colour: string, w: number, left: number) => ({
    input: { create: { width: w, height, channels: 3 as const, background: colour } },
    left,
    top: 0,
  });
  return sharp({ create: { width, height, channels: 3, background: gapColour } })
    .composite(colours.map((c, i) => band(c, bandWidth, i * (bandWidth + gap))))
    .png()
    .toBuffer();
}

/**
 * A PNG of `columns` x `rows` coloured blocks, each `block` pixels square, the colours drawn from
 * `seed`: a pattern whose every part differs, so a crop shown in the wrong place is seen.
 */
export function blocksPng(columns: number, rows: number, block: number, seed: number): Promise<Buffer> {
  const width = columns * block;
  const height = rows * block;
  const pixels = Buffer.alloc(width * height * 3);
  let s = seed;
  const colours = Array.from({ length: columns * rows }, () => {
    const c = [0, 1, 2].map((): number => {
      s = (s * 1103515245 + 12345) & 0x7fffffff;
      return (s >> 16) & 0x80 ? 230 : 20; // saturated primaries and mixes: far apart after JPEG
    });
    // Never grey: every block has a low and a high channel, so none passes for white or black.
    if (c[0] === c[1] && c[1] === c[2]) c[2] = 250 - c[2]!;
    return c;
  });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const c = colours[Math.floor(y / block) * columns + Math.floor(x / block)]!;
      pixels.set(c, (y * width + x) * 3);
    }
  }
  return sharp(pixels, { raw: { width, height, channels: 3 } })
    .png()
    .toBuffer();
}
