import { loadConfig, type EaselConfig } from './config.js';
import type { Logger } from './logger.js';

/** Dotted keys whose values differ between two configs (values compared as JSON). */
function changedKeys(a: unknown, b: unknown, prefix = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(a) || !isObject(b)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].flatMap((k) => changedKeys(a[k], b[k], prefix ? `${prefix}.${k}` : k));
}

export interface ReloadOptions {
  argv: string[];
  env?: Record<string, string | undefined>;
  logger: Logger;
}

/**
 * SIGHUP (systemctl reload, or a terminal closing): Node's default would end the process and
 * blank the wall. Instead the config is read again and what can change live is applied: the
 * log level. Playlists are watched already. Anything else that changed is named, once, as
 * needing a restart; a config that no longer validates is logged and the running one kept.
 */
export function createReloader(options: ReloadOptions, running: EaselConfig): () => void {
  let current = running;
  return () => {
    let next: EaselConfig;
    try {
      next = loadConfig({ argv: options.argv, ...(options.env ? { env: options.env } : {}) });
    } catch (err) {
      options.logger.warn(
        { signal: 'SIGHUP', err: (err as Error).message },
        'SIGHUP: the configuration is not valid now; the running one is kept',
      );
      return;
    }
    const changed = changedKeys(current, next);
    const needsRestart = changed.filter((k) => k !== 'log.level');
    if (next.log.level !== current.log.level) options.logger.level = next.log.level;
    options.logger.info(
      { signal: 'SIGHUP', logLevel: next.log.level, needsRestart },
      needsRestart.length
        ? `SIGHUP: configuration read again; log level is ${next.log.level}; ${needsRestart.join(', ')} changed and take effect after a restart`
        : `SIGHUP: configuration read again; log level is ${next.log.level}; playlists are watched already, nothing else to reload`,
    );
    // Keys that need a restart stay as running, so the next SIGHUP names them again.
    current = { ...current, log: { ...current.log, level: next.log.level } };
  };
}
