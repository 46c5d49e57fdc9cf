import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createFrame, stampFrame, type Frame } from '../canvas/frame.js';
import { EaselError } from '../errors.js';
import type { SourceImage } from '../stream/source.js';
import type { ArchiveEntry, ArchiveWrite } from './archive-entry.js';
import { createArchiveRecorder } from './archive-recorder.js';

let seq = 0;
function shown(image: Partial<SourceImage> & { id: string; source: string }, leadMs?: number): Frame {
  const frame = createFrame({ data: Buffer.from(image.id), createdAt: Date.UTC(2026, 11, 1, 19, 5, 12, 345), ...image }, new Map());
  stampFrame(frame, ++seq, Date.UTC(2026, 11, 1, 19, 5, 13), leadMs);
  return frame;
}

/** Keeps what it is given, as the store would, and answers with an id. */
function keepingStore() {
  const writes: ArchiveWrite[] = [];
  return {
    writes,
    async write(w: ArchiveWrite): Promise<ArchiveEntry> {
      writes.push(w);
      return { id: `${w.canvas}.${writes.length}` } as ArchiveEntry;
    },
  };
}

describe('the archive recorder', () => {
  it('keeps generated frames and uploads once each, with what made them, and nothing else', async () => {
    const store = keepingStore();
    const { logger } = captureLogs();
    const recorder = createArchiveRecorder({ store, clock: new FakeClock(), logger });
    const generated = shown(
      {
        id: 'req-1/0',
        source: 'inference',
        prompt: 'a foggy harbour',
        job: 'j-1',
        generation: { seed: 42, steps: 2, strength: 0.5, model: 'easel-dev-procedural', endpoint: '127.0.0.1:50051' },
        playlist: { name: 'evening-show', step: 2 },
      },
      300,
    );
    const upload = shown({ id: 'u-1', source: 'upload' });
    const ids = await Promise.all([
      recorder.record('wall-1', generated, 3),
      recorder.record('wall-1', generated, 5), // shown again: not written again
      recorder.record('wall-1', upload, 1),
      recorder.record('wall-1', shown({ id: 'f-1', source: 'folder', file: '/srv/art/a.png' }), 1),
      recorder.record('wall-1', shown({ id: 's-1', source: 'still', file: '/srv/art/b.png' }), 1),
      recorder.record('wall-1', shown({ id: 'u-0', source: 'upload', restored: true }), 1),
      recorder.record('wall-1', shown({ id: 'u-9', source: 'upload', archiveId: 'wall-1.20261201.190512345-ab12cd34' }), 1),
    ]);
    expect(ids).toEqual(['wall-1.1', 'wall-1.1', 'wall-1.2', null, null, null, null]);
    expect(store.writes.map((w) => w.meta.source)).toEqual(['inference', 'upload']);
    expect(store.writes[0]!.data.toString()).toBe('req-1/0');
    expect(store.writes[0]!.meta).toEqual({
      canvas: 'wall-1',
      source: 'inference',
      prompt: 'a foggy harbour',
      seed: 42,
      steps: 2,
      strength: 0.5,
      model: 'easel-dev-procedural',
      endpoint: '127.0.0.1:50051',
      job: 'j-1',
      playlist: { name: 'evening-show', step: 2 },
      madeAt: '2026-12-01T19:05:12.345Z',
      shownAt: '2026-12-01T19:05:13.300Z', // presentAt: slot time + lead
      seq: generated.seq,
      displays: 3,
    });
    // An upload knows no prompt, seed or model; without sync, shownAt is the slot time.
    expect(store.writes[1]!.meta).toEqual({
      canvas: 'wall-1',
      source: 'upload',
      madeAt: '2026-12-01T19:05:12.345Z',
      shownAt: '2026-12-01T19:05:13.000Z',
      seq: upload.seq,
      displays: 1,
    });
    expect(recorder.counts()).toEqual({ written: 2, dropped: 0, failed: 0, pending: 0 });
  });

  it('lets at most 64 frames wait for a stuck disk, then drops and counts the rest with one warning', async () => {
    let started = 0;
    const stuck = {
      write: () => {
        started += 1;
        return new Promise<ArchiveEntry>(() => undefined);
      },
    };
    const { logger, lines } = captureLogs();
    const recorder = createArchiveRecorder({ store: stuck, clock: new FakeClock(), logger });
    const answers = Array.from({ length: 100 }, (_, i) => recorder.record('wall-1', shown({ id: `r/${i}`, source: 'inference' }), 1));
    expect(recorder.counts()).toEqual({ written: 0, dropped: 36, failed: 0, pending: 64 });
    // The frames dropped answer at once (the play log does not wait for them).
    await expect(answers[99]).resolves.toBeNull();
    await new Promise((r) => setImmediate(r));
    expect(started).toBe(1); // one write at a time
    const warnings = lines.filter((l) => String(l.msg).includes('frames already wait'));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.level).toBe(40);
  });

  it('counts a frame the store refuses, says so once a minute per kind, and goes on', async () => {
    const clock = new FakeClock();
    let calls = 0;
    const refusing = {
      async write(): Promise<ArchiveEntry> {
        calls += 1;
        throw new EaselError('EASEL_ERR_IMAGE_UNREADABLE', 'not an image', { hint: 'x' });
      },
    };
    const { logger, lines } = captureLogs();
    const recorder = createArchiveRecorder({ store: refusing, clock, logger });
    const ids = await Promise.all([1, 2, 3].map((i) => recorder.record('wall-1', shown({ id: `x/${i}`, source: 'upload' }), 1)));
    expect(ids).toEqual([null, null, null]);
    expect(calls).toBe(3);
    expect(recorder.counts()).toMatchObject({ written: 0, failed: 3, pending: 0 });
    expect(lines.filter((l) => String(l.msg).startsWith('Archive: frame of "wall-1" not kept'))).toHaveLength(1);
  });

  it('writes nothing before the store is open, then everything that waited', async () => {
    const store = keepingStore();
    let open!: () => void;
    const ready = new Promise<void>((resolve) => {
      open = resolve;
    });
    const recorder = createArchiveRecorder({ store, ready, clock: new FakeClock(), logger: captureLogs().logger });
    const id = recorder.record('wall-1', shown({ id: 'w/1', source: 'inference' }), 1);
    await new Promise((r) => setImmediate(r));
    expect(store.writes).toHaveLength(0);
    open();
    await expect(id).resolves.toBe('wall-1.1');
  });
});
