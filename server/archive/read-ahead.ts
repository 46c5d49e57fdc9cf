/**
 * Files read a little ahead of a consumer that takes them one by one, in order (the zip export):
 * opening, reading and closing a file costs a few trips to libuv's thread pool, and doing that
 * for thousands of small images one after another leaves the export waiting most of the time.
 * Small files are read while earlier ones are sent, within a byte budget, so the memory held
 * stays bounded; larger files are read in pieces when their turn comes, each piece as the
 * previous one is taken. (Through fs.createReadStream, piped on by yazl, a slow client's export
 * stalled mid-file in 2 runs of 3, one read never answering; FileHandle reads did not.)
 */
import { open, readFile } from 'node:fs/promises';
import { Readable } from 'node:stream';

export interface ReadAheadOptions {
  /** Files at most this large are read ahead whole; larger ones are read in pieces when taken. */
  smallBytes?: number;
  /** Bytes read ahead and not yet taken, at most. */
  budgetBytes?: number;
  /** Reads in flight at most. */
  maxReads?: number;
}

export interface ReadAhead {
  /** The stream of file `index`; call with 0, 1, 2… in order. */
  take(index: number): Readable;
  /** Stops reading ahead (the consumer is gone). */
  stop(): void;
  /** Bytes read ahead and not yet taken (tests). */
  readonly heldBytes: number;
}

export function createReadAhead(files: ReadonlyArray<{ path: string; size: number }>, options: ReadAheadOptions = {}): ReadAhead {
  const small = options.smallBytes ?? 1024 * 1024;
  const budget = options.budgetBytes ?? 8 * 1024 * 1024;
  const maxReads = options.maxReads ?? 16;
  const ahead = new Map<number, Promise<Buffer>>();
  let next = 0;
  let held = 0;
  let stopped = false;

  function fill(): void {
    while (!stopped && next < files.length && ahead.size < maxReads) {
      const { path, size } = files[next]!;
      if (size > small) {
        next += 1; // streamed when taken
        continue;
      }
      if (held + size > budget) return;
      const read = readFile(path);
      // Read ahead but never taken (the client left): the failure is nobody's to hear.
      read.catch(() => undefined);
      ahead.set(next, read);
      held += size;
      next += 1;
    }
  }

  return {
    take(index) {
      if (index > next) next = index;
      fill();
      const read = ahead.get(index);
      const file = files[index]!;
      if (read) {
        ahead.delete(index);
        held -= file.size;
        fill();
      }
      if (!read) return Readable.from(chunksOf(file.path));
      return Readable.from(
        (async function* () {
          yield await read;
        })(),
      );
    },
    stop() {
      stopped = true;
      ahead.clear();
      held = 0;
    },
    get heldBytes() {
      return held;
    },
  };
}

/** A large file in 256 KiB pieces, each read when the previous one has been taken. */
async function* chunksOf(file: string): AsyncGenerator<Buffer> {
  const handle = await open(file, 'r');
  try {
    for (;;) {
      const { bytesRead, buffer } = await handle.read({ buffer: Buffer.allocUnsafe(256 * 1024) });
      if (bytesRead === 0) return;
      yield bytesRead < buffer.length ? buffer.subarray(0, bytesRead) : buffer;
    }
  } finally {
    await handle.close();
  }
}
