import { describe, expect, it } from 'vitest';
import { allocatorFromMaps, loadedAllocator, memoryFromMetrics, metricBySuffix, NO_MEMORY_FIGURES } from './memory.js';
import { memoryVerdict, type RssSample } from './report.js';

const sample = (t: number, rssMb: number, parts: Partial<RssSample> = {}): RssSample => ({
  ...NO_MEMORY_FIGURES,
  t,
  rssMb,
  cpuPercent: 0,
  displays: 0,
  serverDisplays: 0,
  framesPerSecond: 0,
  ...parts,
});

/** One sample a minute for `minutes`, RSS and the parts given as functions of the minute. */
const run = (minutes: number, rss: (m: number) => number, parts: (m: number) => Partial<RssSample> = () => ({})) =>
  Array.from({ length: minutes + 1 }, (_, m) => sample(m * 60, rss(m), parts(m)));

describe("the soak's memory figures", () => {
  it('reads metrics by suffix, with or without a prefix, and works out native memory', () => {
    const text = [
      '# HELP easel_nodejs_heap_size_used_bytes x',
      'easel_nodejs_heap_size_used_bytes 20971520',
      'nodejs_heap_size_total_bytes 41943040',
      'nodejs_heap_space_size_used_bytes{space="new"} 1',
      'easel_nodejs_external_memory_bytes 10485760',
      'easel_array_buffers_bytes 5242880',
      'render_cache_bytes 3145728',
      'easel_archive_entries 1234',
    ].join('\n');
    expect(metricBySuffix(text, 'nodejs_heap_size_used_bytes')).toBe(20971520);
    expect(metricBySuffix(text, 'nodejs_heap_space_size_used_bytes')).toBeNull(); // labelled: not a process total
    expect(memoryFromMetrics(text, 150)).toEqual({
      cacheMb: 3,
      heapUsedMb: 20,
      heapTotalMb: 40,
      externalMb: 10,
      arrayBuffersMb: 5,
      nativeMb: 100,
      archiveEntries: 1234,
    });
    expect(memoryFromMetrics('', 150)).toEqual(NO_MEMORY_FIGURES);
  });
});

describe("the soak's memory verdict", () => {
  it('passes growth the rendition cache explains while it fills', () => {
    const v = memoryVerdict(
      run(
        20,
        (m) => 150 + m,
        (m) => ({ cacheMb: m }),
      ),
      0.5,
      64,
    );
    expect(v.ok).toBe(true);
    expect(v.unexplainedMbPerMinute).toBeCloseTo(0);
  });

  it('fails growth past what the cache explains, saying how much', () => {
    const v = memoryVerdict(
      run(
        20,
        (m) => 150 + 2 * m,
        (m) => ({ cacheMb: m }),
      ),
      0.5,
      64,
    );
    expect(v.ok).toBe(false);
    expect(v.unexplainedMbPerMinute).toBeCloseTo(1);
    expect(v.reason).toMatch(/RSS grew 2 MB\/min .* 1 MB\/min of it not the rendition cache nor spare JS heap/);
  });

  it('passes V8 growing its spare heap back with the load, and is not tilted by one burst', () => {
    // Heap total steps from 30 to 53 MB at minute 15 as displays come back; used stays at 20.
    const parts = (m: number) => ({
      cacheMb: 4,
      heapUsedMb: 20,
      heapTotalMb: m < 15 ? 30 : 53,
      externalMb: m === 18 ? 45 : 15,
      nativeMb: 180,
    });
    const v = memoryVerdict(
      run(20, (m) => 230 + (m < 15 ? 0 : 23) + (m === 18 ? 30 : 0), parts),
      0.5,
      4,
    );
    expect(v.slopes.rss).toBeGreaterThan(0.5);
    expect(v.ok).toBe(true);
    expect(v.unexplainedMbPerMinute).toBeCloseTo(0);
  });

  it('fails native or heap growth once the cache is full, even when RSS wobbles', () => {
    const v = memoryVerdict(
      run(
        20,
        (m) => 200 + 0.4 * m,
        (m) => ({ cacheMb: 16, heapUsedMb: 20, externalMb: 30, nativeMb: 100 + m }),
      ),
      0.5,
      16,
    );
    expect(v.cacheFullBySecondHalf).toBe(true);
    expect(v.ok).toBe(false);
    expect(v.growing).toEqual(['native']);
  });

  it('fails a cache that holds more than its budget, and passes a flat run', () => {
    expect(
      memoryVerdict(
        run(
          20,
          () => 200,
          () => ({ cacheMb: 40 }),
        ),
        0.5,
        16,
      ).reason,
    ).toMatch(/over its budget of 16 MB/);
    expect(
      memoryVerdict(
        run(
          20,
          () => 200,
          () => ({ cacheMb: 16, heapUsedMb: 20, externalMb: 30, nativeMb: 150 }),
        ),
        0.5,
        16,
      ).ok,
    ).toBe(true);
  });
});

describe("the soak's allocator line", () => {
  it('names jemalloc when the process has it mapped, glibc otherwise', () => {
    const glibc = '7f00-7f10 r-xp 00000000 08:01 12 /usr/lib/x86_64-linux-gnu/libc.so.6\n';
    const jemalloc = `${glibc}7f20-7f30 r-xp 00000000 08:01 13 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n`;
    expect(allocatorFromMaps(glibc)).toBe('glibc malloc');
    expect(allocatorFromMaps(jemalloc)).toBe('jemalloc (/usr/lib/x86_64-linux-gnu/libjemalloc.so.2)');
  });

  it("reads a live process's maps", async () => {
    const preloaded = /jemalloc/.test(process.env.LD_PRELOAD ?? '');
    expect(await loadedAllocator(process.pid)).toMatch(preloaded ? /^jemalloc/ : /^glibc malloc$/);
    expect(await loadedAllocator(2 ** 22 + 1)).toBe('unknown (no /proc)');
  });
});
