/**
 * Where the server's memory goes, read from its own /metrics beside RSS from /proc: the
 * rendition cache (bounded by render.cacheMegabytes, so growth up to it is expected), the JS
 * heap, external memory (Buffers, of which array buffers) and the rest ("native": RSS minus
 * heap total minus external — libvips, uWS, the allocator's free lists, code), and how many
 * entries the archive lists, whose index is part of the heap until retention caps it.
 *
 * Metric names are matched by suffix so the figures survive a prefix change (prom-client's
 * default metrics with or without `easel_`). Pure parsing here; the fetch is one function.
 */

import { readFile } from 'node:fs/promises';

export interface MemoryFigures {
  /** Bytes the rendition cache holds; null when the server does not report it. */
  cacheMb: number | null;
  heapUsedMb: number | null;
  heapTotalMb: number | null;
  externalMb: number | null;
  arrayBuffersMb: number | null;
  /** RSS − heap total − external; null when a part is missing. */
  nativeMb: number | null;
  /** Entries the archive lists (its index lives in the JS heap); null with the archive off. */
  archiveEntries: number | null;
}

const MB = 1024 * 1024;

/** The value of the first unlabelled sample whose name ends with `suffix` (after `_` or at the start). */
export function metricBySuffix(text: string, suffix: string): number | null {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || line.includes('{')) continue;
    const space = line.indexOf(' ');
    if (space < 0) continue;
    const name = line.slice(0, space);
    if (name !== suffix && !name.endsWith(`_${suffix}`)) continue;
    const value = Number(
      line
        .slice(space + 1)
        .trim()
        .split(' ')[0],
    );
    if (Number.isFinite(value)) return value;
  }
  return null;
}

const mb = (bytes: number | null) => (bytes === null ? null : Math.round((bytes / MB) * 10) / 10);

export function memoryFromMetrics(text: string, rssMb: number): MemoryFigures {
  const heapTotal = metricBySuffix(text, 'nodejs_heap_size_total_bytes');
  const external = metricBySuffix(text, 'nodejs_external_memory_bytes');
  return {
    cacheMb: mb(metricBySuffix(text, 'render_cache_bytes')),
    heapUsedMb: mb(metricBySuffix(text, 'nodejs_heap_size_used_bytes')),
    heapTotalMb: mb(heapTotal),
    externalMb: mb(external),
    arrayBuffersMb: mb(metricBySuffix(text, 'array_buffers_bytes')),
    nativeMb: heapTotal === null || external === null ? null : Math.round((rssMb - (heapTotal + external) / MB) * 10) / 10,
    archiveEntries: metricBySuffix(text, 'archive_entries'),
  };
}

export const NO_MEMORY_FIGURES: MemoryFigures = {
  cacheMb: null,
  heapUsedMb: null,
  heapTotalMb: null,
  externalMb: null,
  arrayBuffersMb: null,
  nativeMb: null,
  archiveEntries: null,
};

/** Scrapes /metrics; a failed scrape gives empty figures rather than stopping the soak. */
export async function fetchMemory(port: number, rssMb: number): Promise<MemoryFigures> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    if (!res.ok) return NO_MEMORY_FIGURES;
    return memoryFromMetrics(await res.text(), rssMb);
  } catch {
    return NO_MEMORY_FIGURES;
  }
}

/** Which allocator the server runs on, from the libraries its process has mapped. */
export function allocatorFromMaps(maps: string): string {
  for (const name of ['jemalloc', 'tcmalloc', 'mimalloc']) {
    const line = maps.split('\n').find((l) => l.includes(`lib${name}`));
    if (line) return `${name} (${line.slice(line.lastIndexOf(' ') + 1)})`;
  }
  return 'glibc malloc';
}

export async function loadedAllocator(pid: number): Promise<string> {
  try {
    return allocatorFromMaps(await readFile(`/proc/${pid}/maps`, 'utf8'));
  } catch {
    return 'unknown (no /proc)';
  }
}
