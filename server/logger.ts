import pino, { type Logger } from 'pino';
import pretty from 'pino-pretty';

export type { Logger };

export interface LoggerOptions {
  level: string;
  /** 'auto' is readable when stdout is a terminal and JSON otherwise (systemd, docker, files). */
  pretty: 'auto' | 'true' | 'false';
  /** Where JSON lines go; stdout by default. Tests pass a stream to read the lines back. */
  destination?: pino.DestinationStream;
}

/** The one root logger. Modules take `log.child({ slug })`, never a logger of their own. */
export function createLogger(options: LoggerOptions): Logger {
  const base = { level: options.level, base: { pid: process.pid }, redact: ['token', '*.token', 'authorization'] };
  const usePretty = options.pretty === 'true' || (options.pretty === 'auto' && process.stdout.isTTY === true);
  if (usePretty && !options.destination) {
    return pino(base, pretty({ colorize: true, sync: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' }));
  }
  return pino(base, options.destination ?? pino.destination({ sync: false }));
}
