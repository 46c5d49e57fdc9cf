/**
 * A process that archives frames as fast as it can until it is killed: the subject of the
 * kill -9 test. `node --import tsx test/support/archive-writer.ts <dir> <seed>`; prints one line
 * per entry written, stars and removes a few, and keeps the archive under a size limit so that
 * retention removes entries too.
 */
import pino from 'pino';
import sharp from 'sharp';
import { createArchiveStore } from '../../server/archive/archive-store.js';
import { systemClock } from '../../server/stream/clock.js';
import { createRandom } from '../../tools/support/random.js';

const [dir, seedArg] = process.argv.slice(2);
const random = createRandom(Number(seedArg ?? 1));

/** Noisy PNGs of a few hundred KB: big enough that a kill often lands inside a write. */
async function noisePng(side: number): Promise<Buffer> {
  const pixels = Buffer.alloc(side * side * 3);
  for (let i = 0; i < pixels.length; i++) pixels[i] = Math.floor(random() * 256);
  return sharp(pixels, { raw: { width: side, height: side, channels: 3 } })
    .png({ compressionLevel: 0 })
    .toBuffer();
}

const images = await Promise.all([96, 192, 256, 320].map(noisePng));
const store = createArchiveStore({
  dir: dir!,
  maxBytes: 40 * 1024 * 1024,
  maxAgeDays: 0,
  minFreeBytes: 0,
  clock: systemClock,
  logger: pino({ level: 'silent' }),
});
await store.open();
let n = 0;
const writer = async (lane: number) => {
  for (;;) {
    const i = n++;
    const entry = await store.write({
      canvas: `wall-${lane}`,
      data: images[i % images.length]!,
      meta: {
        canvas: `wall-${lane}`,
        source: 'inference',
        prompt: `frame ${i}`,
        madeAt: new Date(Date.now() + i).toISOString(),
        shownAt: new Date().toISOString(),
        seq: i,
        displays: 1,
      },
    });
    if (i % 7 === 0) await store.setStarred(entry.id, true);
    if (i % 11 === 0) await store.remove(entry.id);
    process.stdout.write(`wrote ${entry.id}\n`);
  }
};
await Promise.all([1, 2, 3].map(writer));
