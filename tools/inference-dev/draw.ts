/**
 * Draws the dev inference service's pictures: deterministic from prompt and seed (the same
 * pair always gives the same picture, a new seed a visibly different one), with the prompt
 * written across it so a person at the wall can tell which prompt a frame belongs to.
 */
import { createHash } from 'node:crypto';
import sharp from 'sharp';
import { createRandom } from '../support/random.js';

export { createRandom };

export interface DrawOptions {
  prompt: string;
  seed: number;
  width: number;
  height: number;
  /** img2img: the picture is blended over this image. */
  initImage?: Buffer;
  /** img2img: 0 keeps initImage, 1 ignores it. */
  strength?: number;
  /** JPEG quality. Default 85. */
  quality?: number;
}

/** The 32-bit seed of a picture's random choices, mixing prompt and seed. */
export function pictureSeed(prompt: string, seed: number): number {
  return createHash('sha256').update(`${prompt}\u0000${seed}`).digest().readUInt32BE(0);
}

/**
 * Renders one JPEG.
 *
 * @example
 * const jpeg = await drawDevImage({ prompt: 'a red lighthouse', seed: 7, width: 512, height: 512 });
 */
export async function drawDevImage(options: DrawOptions): Promise<Buffer> {
  const { width, height, initImage } = options;
  const strength = initImage && initImage.length > 0 ? clamp(options.strength ?? 1, 0, 1) : 1;
  const svg = Buffer.from(pictureSvg(options, strength));
  const base =
    initImage && initImage.length > 0
      ? sharp(initImage).resize(width, height, { fit: 'cover' })
      : sharp({ create: { width, height, channels: 3, background: '#000' } });
  return base
    .composite([{ input: svg, top: 0, left: 0 }])
    .jpeg({ quality: options.quality ?? 85 })
    .toBuffer();
}

/** The picture at `opacity` (img2img blending), with the prompt on top at full strength so it stays legible. */
function pictureSvg({ prompt, seed, width, height }: DrawOptions, opacity: number): string {
  const random = createRandom(pictureSeed(prompt, seed));
  const hue = Math.floor(random() * 360);
  const hue2 = (hue + 60 + Math.floor(random() * 180)) % 360;
  const shapes: string[] = [];
  const count = 5 + Math.floor(random() * 6);
  for (let i = 0; i < count; i += 1) {
    const x = Math.round(random() * width);
    const y = Math.round(random() * height);
    const size = Math.round((0.08 + random() * 0.3) * Math.min(width, height));
    const fill = `hsl(${(hue + Math.floor(random() * 120)) % 360},${60 + Math.floor(random() * 35)}%,${35 + Math.floor(random() * 40)}%)`;
    const alpha = (0.45 + random() * 0.45).toFixed(2);
    shapes.push(
      random() < 0.5
        ? `<circle cx="${x}" cy="${y}" r="${size}" fill="${fill}" fill-opacity="${alpha}"/>`
        : `<rect x="${x - size}" y="${y - size / 2}" width="${size * 2}" height="${size}" fill="${fill}" fill-opacity="${alpha}" transform="rotate(${Math.floor(random() * 90)} ${x} ${y})"/>`,
    );
  }
  const fontSize = Math.max(12, Math.round(Math.min(width, height) / 16));
  const lines = wrap(prompt, Math.max(8, Math.floor(width / (fontSize * 0.6))), 4);
  const top = height / 2 - ((lines.length - 1) * fontSize * 1.25) / 2;
  const text = lines.map((line, i) => `<text x="50%" y="${Math.round(top + i * fontSize * 1.25)}">${escapeXml(line)}</text>`).join('');
  const small = Math.max(10, Math.round(fontSize / 2));
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
<defs><linearGradient id="bg" x1="0" y1="0" x2="1" y2="1">
<stop offset="0" stop-color="hsl(${hue},70%,22%)"/><stop offset="1" stop-color="hsl(${hue2},70%,45%)"/>
</linearGradient></defs>
<g opacity="${opacity.toFixed(3)}">
<rect width="100%" height="100%" fill="url(#bg)"/>${shapes.join('')}
</g>
<g font-family="DejaVu Sans, sans-serif" font-size="${fontSize}" font-weight="bold" text-anchor="middle" dominant-baseline="middle" fill="#fff" stroke="#000" stroke-width="${Math.max(1, fontSize / 12).toFixed(1)}" paint-order="stroke">${text}</g>
<text x="${small}" y="${height - small}" font-family="DejaVu Sans Mono, monospace" font-size="${small}" fill="#fff" fill-opacity="0.8">seed ${seed} · dev inference</text>
</svg>`;
}

/** Breaks text into at most `maxLines` lines of about `perLine` characters, with an ellipsis when cut. */
export function wrap(text: string, perLine: number, maxLines: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.trim().split(/\s+/)) {
    const piece = word.length > perLine ? `${word.slice(0, perLine - 1)}…` : word;
    if (line && line.length + 1 + piece.length > perLine) {
      lines.push(line);
      line = piece;
    } else {
      line = line ? `${line} ${piece}` : piece;
    }
  }
  if (line) lines.push(line);
  if (lines.length <= maxLines) return lines;
  const kept = lines.slice(0, maxLines);
  kept[maxLines - 1] = `${kept[maxLines - 1]!.slice(0, perLine - 1)}…`;
  return kept;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
