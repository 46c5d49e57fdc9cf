import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { tempFolder } from '../../test/support/server.js';
import { createReadAhead } from './read-ahead.js';

let folder: ReturnType<typeof tempFolder>;
afterEach(() => folder.remove());

function files(sizes: number[]) {
  folder = tempFolder('easel-read-ahead-');
  return sizes.map((size, i) => {
    const file = path.join(folder.dir, `f${i}`);
    writeFileSync(file, Buffer.alloc(size, i + 1));
    return { path: file, size };
  });
}

/** Taken and dropped at once: what a consumer that left does. */
const drop = (stream: Readable) => stream.on('error', () => undefined).destroy();

async function bytesOf(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

describe('read-ahead', () => {
  it('gives every file whole, in order, small ones read ahead and large ones streamed', async () => {
    const list = files([10, 5000, 20, 3_000_000, 30, 40]);
    const reader = createReadAhead(list, { smallBytes: 10_000, budgetBytes: 6000 });
    for (const [i, f] of list.entries()) {
      const data = await bytesOf(reader.take(i));
      expect(data.length).toBe(f.size);
      expect(data.every((b) => b === i + 1)).toBe(true);
    }
    expect(reader.heldBytes).toBe(0);
  });

  it('never holds more than its budget', () => {
    const list = files(Array.from({ length: 50 }, () => 1000));
    const reader = createReadAhead(list, { smallBytes: 10_000, budgetBytes: 4500, maxReads: 100 });
    let most = 0;
    for (let i = 0; i < list.length; i++) {
      drop(reader.take(i));
      most = Math.max(most, reader.heldBytes);
    }
    expect(most).toBe(4000);
  });

  it('lets go of what it read ahead when stopped', () => {
    const reader = createReadAhead(files([100, 100, 100]));
    drop(reader.take(0));
    expect(reader.heldBytes).toBe(200);
    reader.stop();
    expect(reader.heldBytes).toBe(0);
  });

  it('reports a file that vanished as an error on its stream', async () => {
    const list = files([100, 100]);
    folder.remove();
    const reader = createReadAhead(list);
    await expect(bytesOf(reader.take(0))).rejects.toThrow(/ENOENT/);
  });
});
