import pino from 'pino';
import { Writable } from 'node:stream';
import type { Logger } from '../../server/logger.js';

/** A real pino logger whose JSON lines a test can read back. */
export function captureLogs(level = 'debug'): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}
