import { describe, expect, it } from 'vitest';
import { archiveCost, metricsDelta, pacingFigures, ratio, readMetrics, sumMetric, type Arrival } from './archive-pacing-stats.js';

const frame = (slot: number, late: number, lead = 300): Arrival => ({ slot, at: slot + late, presentAt: slot + lead, seq: slot / 250 });

describe('pacingFigures', () => {
  it('measures arrival against slot and each interval against the period, per display', () => {
    const a = [frame(0, 2), frame(250, 4), frame(500, 6)];
    const b = [frame(0, 10), frame(750, 10)]; // one slot with no frame: a 750 ms gap
    const p = pacingFigures([a, b], 250);
    expect(p.frames).toBe(5);
    expect(p.latenessMs.p50).toBe(6);
    expect(p.latenessMs.max).toBe(10);
    // Intervals 252, 252 on a; 750 on b: deviations 2, 2, 500, and no interval across displays.
    expect(p.intervalDeviationMs.n).toBe(3);
    expect(p.intervalDeviationMs.max).toBe(500);
    expect(p.longGaps).toBe(1);
    expect(p.afterPresentAt).toBe(0);
  });

  it('counts frames that came after their presentAt, and none for a canvas without sync', () => {
    const late = [frame(0, 320), { at: 260, slot: 250, presentAt: Number.NaN, seq: 1 }];
    expect(pacingFigures([late], 250).afterPresentAt).toBe(1);
  });
});

const METRICS = `# HELP easel_archive_written_total Frames kept
# TYPE easel_archive_written_total counter
easel_archive_written_total 120
easel_archive_written_total_extra 5
easel_pacing_deviation_seconds_bucket{le="0.01",canvas="gen-1"} 30
easel_pacing_deviation_seconds_bucket{le="0.05",canvas="gen-1"} 39
easel_pacing_deviation_seconds_bucket{canvas="gen-2",le="0.01"} 20
easel_pacing_deviation_seconds_bucket{canvas="gen-2",le="+Inf"} 40
easel_pacing_deviation_seconds_sum{canvas="gen-1"} 0.5
easel_pacing_deviation_seconds_sum{canvas="gen-2"} 0.25
easel_pacing_deviation_seconds_count{canvas="gen-1"} 40
easel_pacing_deviation_seconds_count{canvas="gen-2"} 40
`;

describe('sumMetric and readMetrics', () => {
  it('sums a metric over its labels, filtered, and never takes a longer name for it', () => {
    expect(sumMetric(METRICS, 'easel_archive_written_total')).toBe(120);
    expect(sumMetric(METRICS, 'easel_pacing_deviation_seconds_bucket', (l) => l.le === '0.01')).toBe(50);
    expect(sumMetric(METRICS, 'easel_archive_dropped_total')).toBeNull();
  });

  it('reads the archive counters and the pacing histogram, and subtracts two readings', () => {
    const end = readMetrics(METRICS);
    expect(end).toMatchObject({ archiveWritten: 120, archiveDropped: null, pacingSum: 0.75, pacingCount: 80, pacingWithin10ms: 50 });
    const start = readMetrics('easel_archive_written_total 20\neasel_pacing_deviation_seconds_count{canvas="gen-1"} 8\n');
    expect(metricsDelta(start, end)).toMatchObject({ archiveWritten: 100, archiveDropped: null, pacingCount: 72 });
  });
});

describe('archiveCost', () => {
  it('pools each kind of phase and charges ON minus OFF CPU to the frames archived', () => {
    const cost = archiveCost([
      { archive: false, seconds: 60, cpuSeconds: 30, archived: 0, published: 1920 },
      { archive: true, seconds: 60, cpuSeconds: 36, archived: 1900, published: 1920 },
      { archive: false, seconds: 60, cpuSeconds: 32, archived: 0, published: 1920 },
      { archive: true, seconds: 60, cpuSeconds: 38, archived: 1900, published: 1920 },
    ]);
    expect(cost.offCpuPercent).toBe(51.7);
    expect(cost.onCpuPercent).toBe(61.7);
    // (0.6167 − 0.5167) CPU s per s over 31.67 frames per s = 3.16 ms a frame.
    expect(cost.cpuMsPerArchivedFrame).toBeCloseTo(3.16, 2);
    expect(cost.cpuPerPublishedRatio).toBeCloseTo(74 / 62, 3);
  });

  it('gives no ratio against zero', () => {
    expect(ratio(3, 0)).toBeNaN();
    expect(ratio(3, 2)).toBe(1.5);
  });
});
