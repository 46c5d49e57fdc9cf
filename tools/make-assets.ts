/**
 * Generates the bundled images in assets/, so a fresh checkout streams something real with no
 * inference service. Run with `npm run assets` (or `npx tsx tools/make-assets.ts`).
 *
 * Every picture is procedural SVG rendered by sharp. The output is deterministic: randomness
 * comes from a seeded PRNG and nothing reads the clock, so a second run rewrites the same bytes
 * (given the same sharp/libvips build and fonts, which shape the rasterised caption).
 *
 * The set is chosen to exercise the folder source, not just to look nice:
 * - names sort in display order (`01-dawn.jpg` ... `12-dusk.jpg`);
 * - mostly JPEG, plus a palette PNG, two WebPs, and one JPEG stored sideways with EXIF
 *   Orientation 6 that only looks upright after `sharp().rotate()`;
 * - mostly 1024x1024, plus one 1280x800 landscape and one 800x1280 portrait for fit modes.
 */
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { createRandom } from './support/random.js';

const ASSETS_DIR = fileURLToPath(new URL('../assets/', import.meta.url));

/** Files this script owns in assets/: anything else there (README.md) is left alone. */
const GENERATED_NAME = /^\d\d-[a-z0-9-]+\.(jpg|png|webp)$/;

type Encoding = 'jpeg' | 'png' | 'webp' | 'jpeg-exif-6';

interface AssetSpec {
  name: string;
  width: number;
  height: number;
  encoding: Encoding;
  /** Returns the SVG body (shapes and defs) of the picture, caption excluded. */
  draw: (ctx: DrawContext) => string;
}

interface DrawContext {
  w: number;
  h: number;
  rand: () => number;
}

/** Rounds coordinates so the SVG text (and so the raster) never depends on float printing. */
const f = (n: number): string => (Math.round(n * 10) / 10).toString();

const lerp = (a: number, b: number, t: number): number => a + (b - a) * t;

/** Mixes two `#rrggbb` colours; t=0 gives `a`. */
function mix(a: string, b: string, t: number): string {
  const pa = parseInt(a.slice(1), 16);
  const pb = parseInt(b.slice(1), 16);
  const channel = (shift: number): number => Math.round(lerp((pa >> shift) & 255, (pb >> shift) & 255, t));
  const out = (channel(16) << 16) | (channel(8) << 8) | channel(0);
  return `#${out.toString(16).padStart(6, '0')}`;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

function linear(id: string, stops: readonly string[], vertical = true): string {
  const s = stops.map((c, i) => `<stop offset="${f((i / (stops.length - 1)) * 100)}%" stop-color="${c}"/>`).join('');
  const dir = vertical ? 'x1="0" y1="0" x2="0" y2="1"' : 'x1="0" y1="0" x2="1" y2="0"';
  return `<linearGradient id="${id}" ${dir}>${s}</linearGradient>`;
}

/** A closed path under a sine-ish curve, from y to the bottom edge. */
function wave(ctx: DrawContext, y: number, amp: number, len: number, phase: number): string {
  const { w, h } = ctx;
  let d = `M0 ${f(h)} L0 ${f(y + Math.sin(phase) * amp)}`;
  for (let x = 16; x <= w + 16; x += 16) {
    const yy = y + Math.sin(phase + (x / len) * Math.PI * 2) * amp + Math.sin(phase * 1.7 + (x / (len * 0.43)) * Math.PI * 2) * amp * 0.25;
    d += ` L${f(x)} ${f(yy)}`;
  }
  return `${d} L${f(w + 16)} ${f(h)} Z`;
}

function stars(ctx: DrawContext, count: number, maxY: number): string {
  let out = '';
  for (let i = 0; i < count; i++) {
    const r = ctx.rand() < 0.9 ? 0.6 + ctx.rand() * 0.8 : 1.6 + ctx.rand();
    out +=
      `<circle cx="${f(ctx.rand() * ctx.w)}" cy="${f(ctx.rand() * maxY)}" r="${f(r)}" ` +
      `fill="#fffbea" opacity="${f(0.35 + ctx.rand() * 0.6)}"/>`;
  }
  return out;
}

const DESIGNS: readonly AssetSpec[] = [
  {
    name: 'dawn',
    width: 1024,
    height: 1024,
    encoding: 'jpeg',
    draw: (ctx) => {
      const { w, h } = ctx;
      const horizon = h * 0.66;
      let sea = '';
      for (let i = 0; i < 22; i++) {
        const y = horizon + 10 + i * i * 0.75;
        const len = w * (0.1 + ctx.rand() * 0.25) * (1 - i / 30);
        sea +=
          `<rect x="${f(w / 2 - len / 2 + (ctx.rand() - 0.5) * 60)}" y="${f(y)}" width="${f(len)}" ` +
          `height="${f(2 + i * 0.25)}" rx="2" fill="#ffe2a8" opacity="${f(0.55 - i * 0.02)}"/>`;
      }
      return `<defs>${linear('sky', ['#27284f', '#7a3f78', '#d9677a', '#f8a66c', '#fcd79a'])}
        ${linear('sea', ['#6b3b6e', '#2d2547', '#1b1a33'])}
        <radialGradient id="sun"><stop offset="0%" stop-color="#fff8dc"/><stop offset="70%" stop-color="#ffd27f"/><stop offset="100%" stop-color="#ffb066"/></radialGradient>
        <radialGradient id="glow"><stop offset="0%" stop-color="#ffe0a0" stop-opacity="0.7"/><stop offset="100%" stop-color="#ffe0a0" stop-opacity="0"/></radialGradient></defs>
        <rect width="${w}" height="${h}" fill="url(#sky)"/>
        <circle cx="${f(w / 2)}" cy="${f(horizon)}" r="${f(w * 0.42)}" fill="url(#glow)"/>
        <circle cx="${f(w / 2)}" cy="${f(horizon - h * 0.02)}" r="${f(w * 0.14)}" fill="url(#sun)"/>
        <rect y="${f(horizon)}" width="${w}" height="${f(h - horizon)}" fill="url(#sea)"/>${sea}`;
    },
  },
  {
    name: 'orchard',
    width: 1024,
    height: 1024,
    encoding: 'jpeg',
    draw: (ctx) => {
      const { w, h, rand } = ctx;
      const palette = ['#d1495b', '#edae49', '#66a182', '#2e4057', '#e07a5f', '#81b29a'];
      const n = 7;
      const cell = w / (n + 1);
      let out = `<rect width="${w}" height="${h}" fill="#f2e8d5"/>`;
      for (let row = 0; row < n; row++) {
        for (let col = 0; col < n; col++) {
          const cx = cell * (col + 1);
          const cy = cell * (row + 1);
          const r = cell * (0.28 + rand() * 0.16);
          const c = pick(rand, palette);
          // A leaf-like half disc on some fruit gives rhythm without noise.
          out += `<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(r)}" fill="${c}"/>`;
          if (rand() < 0.45) {
            const a = Math.floor(rand() * 4) * 90;
            out +=
              `<path d="M${f(cx - r)} ${f(cy)} A${f(r)} ${f(r)} 0 0 1 ${f(cx + r)} ${f(cy)} Z" ` +
              `fill="${pick(rand, palette)}" transform="rotate(${a} ${f(cx)} ${f(cy)})"/>`;
          }
          if (rand() < 0.3) {
            out += `<circle cx="${f(cx)}" cy="${f(cy)}" r="${f(r * 0.3)}" fill="#f2e8d5"/>`;
          }
        }
      }
      return out;
    },
  },
  {
    name: 'tidal',
    width: 1024,
    height: 1024,
    encoding: 'jpeg',
    draw: (ctx) => {
      const { w, h, rand } = ctx;
      let out = `<defs>${linear('bg', ['#e8f1ef', '#bfe0dc', '#7fb8c0'])}</defs>` + `<rect width="${w}" height="${h}" fill="url(#bg)"/>`;
      const layers = 13;
      for (let i = 0; i < layers; i++) {
        const t = i / (layers - 1);
        const y = h * 0.18 + t * h * 0.78;
        out +=
          `<path d="${wave(ctx, y, 14 + t * 26, w * (0.5 + rand() * 0.6), rand() * 6.28)}" ` + `fill="${mix('#8fd0c9', '#0d2540', t)}"/>`;
      }
      return out;
    },
  },
  {
    name: 'dune',
    width: 1280,
    height: 800,
    encoding: 'jpeg',
    draw: (ctx) => {
      const { w, h, rand } = ctx;
      let out = `<defs>${linear('sky', ['#f7e3c6', '#f3c99b', '#eaa985'])}
        <radialGradient id="sun"><stop offset="0%" stop-color="#fffaf0"/><stop offset="100%" stop-color="#fde6c4"/></radialGradient></defs>
        <rect width="${w}" height="${h}" fill="url(#sky)"/>
        <circle cx="${f(w * 0.72)}" cy="${f(h * 0.3)}" r="${f(h * 0.09)}" fill="url(#sun)"/>`;
      const layers = 6;
      for (let i = 0; i < layers; i++) {
        const t = i / (layers - 1);
        const base = h * (0.45 + t * 0.45);
        const peak = w * (0.15 + rand() * 0.7);
        const top = base - h * (0.08 + rand() * 0.1);
        out +=
          `<path d="M0 ${f(base)} C${f(peak * 0.5)} ${f(base)} ${f(peak * 0.7)} ${f(top)} ${f(peak)} ${f(top)} ` +
          `C${f(peak + (w - peak) * 0.3)} ${f(top)} ${f(peak + (w - peak) * 0.5)} ${f(base + 20)} ${w} ${f(base - 10)} ` +
          `L${w} ${h} L0 ${h} Z" fill="${mix('#e2a86b', '#7a3b22', t)}"/>`;
        // The shaded lee side of each dune: a darker sliver after the crest.
        out +=
          `<path d="M${f(peak)} ${f(top)} C${f(peak + 60)} ${f(top + 30)} ${f(peak + 40)} ${f(base)} ${f(peak - 30)} ${f(base + 40)} ` +
          `L${f(peak + (w - peak) * 0.6)} ${f(base + 60)} C${f(peak + (w - peak) * 0.4)} ${f(base)} ${f(peak + (w - peak) * 0.25)} ${f(top)} ${f(peak)} ${f(top)} Z" ` +
          `fill="#3a1a0e" opacity="0.12"/>`;
      }
      return out;
    },
  },
  {
    name: 'bauhaus',
    width: 1024,
    height: 1024,
    encoding: 'png',
    draw: (ctx) => {
      const { w, h } = ctx;
      let dots = '';
      for (let y = 0; y < 6; y++) {
        for (let x = 0; x < 6; x++) {
          dots += `<circle cx="${f(w * 0.62 + x * 28)}" cy="${f(h * 0.12 + y * 28)}" r="5" fill="#1d1d1b"/>`;
        }
      }
      // Flat colours only: this one is the PNG, and flat fields keep a palette PNG small.
      return `<rect width="${w}" height="${h}" fill="#efe6d2"/>
        <rect x="${f(w * 0.08)}" y="${f(h * 0.52)}" width="${f(w * 0.5)}" height="${f(h * 0.36)}" fill="#f2b632"/>
        <circle cx="${f(w * 0.4)}" cy="${f(h * 0.42)}" r="${f(w * 0.24)}" fill="#d6402b"/>
        <path d="M${f(w * 0.92)} ${f(h * 0.92)} L${f(w * 0.92)} ${f(h * 0.5)} A${f(w * 0.42)} ${f(w * 0.42)} 0 0 0 ${f(w * 0.5)} ${f(h * 0.92)} Z" fill="#1f4e8c"/>
        <rect x="${f(w * 0.08)}" y="${f(h * 0.1)}" width="${f(w * 0.04)}" height="${f(h * 0.36)}" fill="#1d1d1b"/>
        <rect x="${f(w * 0.08)}" y="${f(h * 0.9)}" width="${f(w * 0.84)}" height="${f(h * 0.018)}" fill="#1d1d1b"/>
        <circle cx="${f(w * 0.78)}" cy="${f(h * 0.42)}" r="${f(w * 0.07)}" fill="none" stroke="#1d1d1b" stroke-width="6"/>
        ${dots}`;
    },
  },
  {
    name: 'aurora',
    width: 1024,
    height: 1024,
    encoding: 'webp',
    draw: (ctx) => {
      const { w, h, rand } = ctx;
      let ribbons = '';
      const colours = [
        ['#3cf0a0', '#2bb6d9'],
        ['#7cff8a', '#a26bff'],
        ['#29e3c5', '#6d5bff'],
      ] as const;
      colours.forEach(([a, b], i) => {
        const y = h * (0.28 + i * 0.1);
        let d = `M${f(-40)} ${f(y)}`;
        for (let x = 0; x <= w + 80; x += 32) {
          d += ` L${f(x)} ${f(y + Math.sin(x / (180 + i * 40) + rand() * 0.15 + i) * 70)}`;
        }
        ribbons += `<path d="${d}" stroke="url(#rib${i})" stroke-width="${f(60 - i * 12)}" fill="none" opacity="0.75" filter="url(#soft)"/>`;
        ribbons += `<defs>${linear(`rib${i}`, [a, b, a], false)}</defs>`;
      });
      let ridge = `M0 ${h}`;
      for (let x = 0; x <= w; x += 32) {
        ridge += ` L${x} ${f(h * 0.82 - Math.abs(Math.sin(x / 210)) * 70 - rand() * 18)}`;
      }
      return `<defs>${linear('night', ['#030712', '#0a1a2e', '#12304a'])}
        <filter id="soft" x="-20%" y="-50%" width="140%" height="200%"><feGaussianBlur stdDeviation="18"/></filter></defs>
        <rect width="${w}" height="${h}" fill="url(#night)"/>${stars(ctx, 160, h * 0.8)}${ribbons}
        <path d="${ridge} L${w} ${h} Z" fill="#02060c"/>`;
    },
  },
  {
    name: 'arches',
    width: 800,
    height: 1280,
    encoding: 'jpeg',
    draw: (ctx) => {
      const { w, h } = ctx;
      const arch = (x: number, y: number, aw: number, ah: number, fill: string): string =>
        `<path d="M${f(x)} ${f(y + ah)} L${f(x)} ${f(y + aw / 2)} A${f(aw / 2)} ${f(aw / 2)} 0 0 1 ${f(x + aw)} ${f(y + aw / 2)} ` +
        `L${f(x + aw)} ${f(y + ah)} Z" fill="${fill}"/>`;
      const layers = ['#f4c7a1', '#eaa17a', '#d87b5a', '#b95a45', '#8c3f3a'];
      let out = `<rect width="${w}" height="${h}" fill="#f7e6d3"/>`;
      layers.forEach((c, i) => {
        const inset = i * w * 0.06;
        out += arch(w * 0.12 + inset, h * 0.1 + inset * 1.3, w * 0.76 - inset * 2, h * 0.9 - inset * 1.3, c);
      });
      // A sky seen through the innermost arch, so the portrait frame reads as a doorway.
      const inset = layers.length * w * 0.06;
      out +=
        `<defs>${linear('through', ['#9cc9e6', '#f7d9b8'])}</defs>` +
        arch(w * 0.12 + inset, h * 0.1 + inset * 1.3, w * 0.76 - inset * 2, h * 0.9 - inset * 1.3, 'url(#through)') +
        `<rect y="${f(h * 0.92)}" width="${w}" height="${f(h * 0.08)}" fill="#6e2f2b"/>`;
      return out;
    },
  },
  {
    name: 'prism',
    width: 1024,
    height: 1024,
    encoding: 'jpeg',
    draw: (ctx) => {
      const { w, h } = ctx;
      const cx = w * 0.5;
      const cy = h * 0.5;
      const R = w;
      const n = 36;
      let out = '';
      for (let i = 0; i < n; i++) {
        const a0 = (i / n) * Math.PI * 2;
        const a1 = ((i + 1) / n) * Math.PI * 2 + 0.01;
        const hue = Math.round((i / n) * 360);
        out +=
          `<path d="M${f(cx)} ${f(cy)} L${f(cx + Math.cos(a0) * R)} ${f(cy + Math.sin(a0) * R)} ` +
          `L${f(cx + Math.cos(a1) * R)} ${f(cy + Math.sin(a1) * R)} Z" fill="hsl(${hue}, 62%, ${i % 2 ? 72 : 64}%)"/>`;
      }
      for (let r = 440; r > 20; r -= 52) {
        out += `<circle cx="${f(cx)}" cy="${f(cy)}" r="${r}" fill="none" stroke="#fdfaf3" stroke-width="14" opacity="0.55"/>`;
      }
      return `${out}<circle cx="${f(cx)}" cy="${f(cy)}" r="30" fill="#fdfaf3"/>`;
    },
  },
  {
    name: 'summit',
    width: 1024,
    height: 1024,
    encoding: 'jpeg-exif-6',
    draw: (ctx) => {
      const { w, h, rand } = ctx;
      // Strong "up" cues (sun high, snow on the peaks, caption at the bottom) so a display
      // that ignores EXIF Orientation shows this one visibly on its side.
      const range = (base: number, height: number, step: number, fill: string, snow: boolean): string => {
        let d = `M0 ${h} L0 ${f(base)}`;
        const peaks: Array<[number, number]> = [];
        for (let x = 0; x <= w + step; x += step) {
          const y = base - height * (0.35 + rand() * 0.65);
          peaks.push([x, y]);
          d += ` L${f(x)} ${f(y)} L${f(x + step / 2)} ${f(base - height * 0.15 * rand())}`;
        }
        let caps = '';
        if (snow) {
          for (const [x, y] of peaks) {
            const s = step * 0.16;
            caps +=
              `<path d="M${f(x)} ${f(y - 2)} L${f(x - s * 2)} ${f(y + s * 1.6)} L${f(x - s * 0.3)} ${f(y + s * 1.2)} ` +
              `L${f(x + s * 0.2)} ${f(y + s * 1.7)} L${f(x + s * 2)} ${f(y + s * 1.6)} Z" fill="#f7f9fc"/>`;
          }
        }
        // Caps are clipped to the range so their edges follow the slopes exactly.
        const id = `range${Math.round(base)}`;
        return (
          `<defs><clipPath id="${id}"><path d="${d} L${w} ${h} Z"/></clipPath></defs>` +
          `<path d="${d} L${w} ${h} Z" fill="${fill}"/><g clip-path="url(#${id})">${caps}</g>`
        );
      };
      return `<defs>${linear('sky', ['#6fa8dc', '#a9cde8', '#e6f0f5'])}</defs>
        <rect width="${w}" height="${h}" fill="url(#sky)"/>
        <circle cx="${f(w * 0.76)}" cy="${f(h * 0.18)}" r="${f(w * 0.07)}" fill="#fff7d6"/>
        ${range(h * 0.62, h * 0.34, 256, '#5b6f8f', true)}
        ${range(h * 0.78, h * 0.22, 180, '#394a66', false)}
        ${range(h * 0.94, h * 0.16, 120, '#223047', false)}`;
    },
  },
  {
    name: 'ember',
    width: 1024,
    height: 1024,
    encoding: 'jpeg',
    draw: (ctx) => {
      const { w, h, rand } = ctx;
      let out = `<defs><radialGradient id="bg" cx="50%" cy="70%" r="80%"><stop offset="0%" stop-color="#3b160d"/><stop offset="100%" stop-color="#0d0606"/></radialGradient>
        <radialGradient id="b"><stop offset="0%" stop-color="#fff0c2" stop-opacity="0.95"/><stop offset="45%" stop-color="#ff9f43" stop-opacity="0.55"/><stop offset="100%" stop-color="#e8452c" stop-opacity="0"/></radialGradient>
        <filter id="blur"><feGaussianBlur stdDeviation="6"/></filter></defs>
        <rect width="${w}" height="${h}" fill="url(#bg)"/>`;
      for (let i = 0; i < 70; i++) {
        const r = 8 + rand() ** 2 * 90;
        const far = r > 50;
        out +=
          `<circle cx="${f(rand() * w)}" cy="${f(h * 0.15 + rand() * h * 0.85)}" r="${f(r)}" fill="url(#b)" ` +
          `opacity="${f(0.35 + rand() * 0.6)}"${far ? ' filter="url(#blur)"' : ''}/>`;
      }
      return out;
    },
  },
  {
    name: 'lagoon',
    width: 1024,
    height: 1024,
    encoding: 'webp',
    draw: (ctx) => {
      const { w, h } = ctx;
      const ripples = (cx: number, cy: number, colour: string): string => {
        let out = '';
        for (let r = 18; r < w * 1.2; r += 34) {
          out +=
            `<circle cx="${f(cx)}" cy="${f(cy)}" r="${r}" fill="none" stroke="${colour}" ` +
            `stroke-width="${f(3 + r / 90)}" opacity="${f(Math.max(0.08, 0.5 - r / 1800))}"/>`;
        }
        return out;
      };
      return `<defs>${linear('water', ['#0f6b72', '#1aa39a', '#7fd6c4'])}</defs>
        <rect width="${w}" height="${h}" fill="url(#water)"/>
        ${ripples(w * 0.32, h * 0.38, '#e9fbf6')}${ripples(w * 0.74, h * 0.7, '#06424a')}`;
    },
  },
  {
    name: 'dusk',
    width: 1024,
    height: 1024,
    encoding: 'jpeg',
    draw: (ctx) => {
      const { w, h, rand } = ctx;
      let city = '';
      let x = 0;
      while (x < w) {
        const bw = 40 + rand() * 70;
        const bh = h * (0.08 + rand() * 0.24);
        const top = h - bh;
        city += `<rect x="${f(x)}" y="${f(top)}" width="${f(bw + 1)}" height="${f(bh)}" fill="${mix('#1a1530', '#241b3d', rand())}"/>`;
        for (let wy = top + 14; wy < h - 16; wy += 22) {
          for (let wx = x + 10; wx < x + bw - 14; wx += 18) {
            if (rand() < 0.28) {
              city += `<rect x="${f(wx)}" y="${f(wy)}" width="7" height="10" fill="#ffd27a" opacity="${f(0.6 + rand() * 0.4)}"/>`;
            }
          }
        }
        x += bw;
      }
      return `<defs>${linear('sky', ['#141a3a', '#3b2d63', '#8a4f7d', '#e08a7a'])}
        <mask id="crescent"><rect width="${w}" height="${h}" fill="#fff"/><circle cx="${f(w * 0.74)}" cy="${f(h * 0.2)}" r="${f(w * 0.06)}" fill="#000"/></mask></defs>
        <rect width="${w}" height="${h}" fill="url(#sky)"/>${stars(ctx, 120, h * 0.55)}
        <circle cx="${f(w * 0.71)}" cy="${f(h * 0.22)}" r="${f(w * 0.065)}" fill="#fdf3d8" mask="url(#crescent)"/>
        ${city}`;
    },
  },
];

/**
 * A small gallery-label caption in the bottom-left corner. Monospace so its backing pill can
 * be sized exactly without measuring text.
 */
function caption(label: string, w: number, h: number): string {
  const size = Math.round(Math.max(w, h) / 48);
  const advance = size * 0.602 + 1;
  const padX = size * 0.7;
  const pillW = label.length * advance + padX * 2;
  const pillH = size * 1.7;
  const x = size * 1.2;
  const y = h - size * 1.2 - pillH;
  return (
    `<rect x="${f(x)}" y="${f(y)}" width="${f(pillW)}" height="${f(pillH)}" rx="${f(pillH / 2)}" fill="#000" opacity="0.5"/>` +
    `<text x="${f(x + padX)}" y="${f(y + pillH / 2 + size * 0.36)}" font-family="DejaVu Sans Mono, monospace" ` +
    `font-size="${size}" letter-spacing="1" fill="#fff" opacity="0.92">${label}</text>`
  );
}

async function render(spec: AssetSpec, index: number): Promise<{ file: string; data: Buffer }> {
  const { width: w, height: h } = spec;
  const number = String(index + 1).padStart(2, '0');
  const body = spec.draw({ w, h, rand: createRandom(0xea5e1 + index * 7919) });
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}">` +
    `${body}${caption(`${number} · ${spec.name}`, w, h)}</svg>`;
  const upright = sharp(Buffer.from(svg)).flatten({ background: '#000' });
  const base = `${number}-${spec.name}`;
  switch (spec.encoding) {
    case 'jpeg':
      return { file: `${base}.jpg`, data: await upright.jpeg({ quality: 85 }).toBuffer() };
    case 'png':
      return { file: `${base}.png`, data: await upright.png({ palette: true, compressionLevel: 9 }).toBuffer() };
    case 'webp':
      return { file: `${base}.webp`, data: await upright.webp({ quality: 85 }).toBuffer() };
    case 'jpeg-exif-6': {
      // Orientation 6 means "rotate 90° clockwise to display", so the stored pixels are the
      // upright picture turned 90° counter-clockwise. Two steps: rotating with an explicit
      // angle in the same pipeline would make sharp drop the tag we set.
      const sideways = await upright.rotate(270).png().toBuffer();
      const data = await sharp(sideways).jpeg({ quality: 85 }).withMetadata({ orientation: 6 }).toBuffer();
      return { file: `${base}.jpg`, data };
    }
  }
}

async function main(): Promise<void> {
  await mkdir(ASSETS_DIR, { recursive: true });
  const outputs = await Promise.all(DESIGNS.map((spec, i) => render(spec, i)));
  const keep = new Set(outputs.map((o) => o.file));
  // Drop images an earlier version of this script made under other names, so the folder
  // source does not keep showing them.
  for (const entry of await readdir(ASSETS_DIR)) {
    if (GENERATED_NAME.test(entry) && !keep.has(entry)) await rm(join(ASSETS_DIR, entry));
  }
  let total = 0;
  for (const { file, data } of outputs) {
    await writeFile(join(ASSETS_DIR, file), data);
    total += data.length;
    process.stdout.write(`${file.padEnd(18)} ${(data.length / 1024).toFixed(1).padStart(7)} KiB\n`);
  }
  process.stdout.write(`${outputs.length} images, ${(total / 1024).toFixed(1)} KiB in ${ASSETS_DIR}\n`);
}

await main();
