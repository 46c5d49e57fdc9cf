import type client from 'prom-client';
import { mirroredCounter, mirroredGauge } from '../mirrored-metrics.js';
import type { ArchiveCounts } from './archive.js';

/**
 * The archive in /metrics: frames kept, left out (queue full) and refused, the entries and bytes
 * on disk, whether it is paused below the free-space floor, and proof-of-play lines. Alert on
 * `easel_archive_paused == 1` (the disk is nearly full) and on a rising
 * `easel_archive_dropped_total` (the disk cannot keep up).
 */
export function registerArchiveMetrics(register: client.Registry, read: () => ArchiveCounts): void {
  const counter = (name: string, help: string, value: (c: ArchiveCounts) => number) =>
    mirroredCounter(register, name, help, () => value(read()));
  const gauge = (name: string, help: string, value: (c: ArchiveCounts) => number) =>
    mirroredGauge(register, name, help, () => value(read()));
  counter('easel_archive_written_total', 'Frames written to the archive', (c) => c.written);
  counter('easel_archive_dropped_total', 'Frames left out of the archive because 64 already waited to be written', (c) => c.dropped);
  counter(
    'easel_archive_failed_total',
    'Frames the archive could not keep (paused below archive.minFreeMb, unreadable bytes, disk errors)',
    (c) => c.failed,
  );
  gauge('easel_archive_entries', 'Entries in the archive', (c) => c.entries);
  gauge('easel_archive_bytes', 'Bytes of the images kept in the archive', (c) => c.bytes);
  gauge('easel_archive_paused', '1 while archiving is paused: its disk has less free space than archive.minFreeMb', (c) =>
    c.paused ? 1 : 0,
  );
  counter('easel_archive_play_lines_total', 'Lines written to the proof-of-play log', (c) => c.playLines);
  counter('easel_archive_play_lines_dropped_total', 'Proof-of-play lines left out because the log fell behind', (c) => c.playDropped);
}
