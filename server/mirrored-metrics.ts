import client from 'prom-client';

/**
 * Metrics whose values live elsewhere (a canvas's counters, the cluster's stats, the archive's
 * counts) and are read at each scrape, so nothing on a hot path touches prom-client.
 */
export type MirroredRead = () => number | Array<[Record<string, string>, number]>;

/** A counter set at each scrape from `read`: one number, or one per label set. */
export function mirroredCounter(
  register: client.Registry,
  name: string,
  help: string,
  read: MirroredRead,
  labelNames: readonly string[] = [],
): client.Counter {
  return new client.Counter({
    name,
    help,
    labelNames,
    registers: [register],
    collect() {
      this.reset();
      const value = read();
      if (typeof value === 'number') this.inc(value);
      else for (const [labels, n] of value) this.inc(labels, n);
    },
  });
}

/** A gauge set at each scrape from `read`. */
export function mirroredGauge(register: client.Registry, name: string, help: string, read: () => number): client.Gauge {
  return new client.Gauge({
    name,
    help,
    registers: [register],
    collect() {
      this.set(read());
    },
  });
}
