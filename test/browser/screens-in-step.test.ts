import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { measureScreenSkew } from '../support/screen-timing.js';

/**
 * What two screens of one canvas must achieve (issue 11). Screen B reaches the server through a
 * Wi-Fi-like link and its clock is several seconds off.
 *
 * The screen times come from the compositor, in whole 60 Hz refreshes (16.67 ms steps), so
 * "within one refresh" is 17 ms. Before the displays presented at `presentAt`, screen B changed
 * one link delay after A: B − A median +50 ms, median skew 33–50 ms (bench/results/skew-before-sync.md).
 * With presentation at `presentAt` neither screen leads (B − A median 0) and on a quiet box every
 * frame changes on the same refresh (bench/results/skew.md: 0 ms median, p95 and max). The limits
 * here leave room for a busy CI box, where an animation frame is sometimes a refresh or two late.
 */
const IN_STEP = {
  frames: 100,
  warmUpFrames: 8,
  fps: 4,
  clockShiftMs: 5_000,
  proxy: { minDelayMs: 20, maxDelayMs: 60 },
  maxP95SkewMs: 67,
  maxMedianSkewMs: 34,
  /** Neither screen may lead the other: the link's delay must not show (it was +50 ms before). */
  maxSignedMedianMs: 17,
  /** Late frames allowed per screen over the run (`stats.framesLate`): a busy box delays a few animation frames. */
  maxLateFrames: 15,
  /** Frames of the run the harness must find on each screen (a busy box may drop a few). */
  minFramesSeen: 95,
};

describe('two screens of one canvas', () => {
  it(`change within ${IN_STEP.maxP95SkewMs} ms of each other (p95 over ${IN_STEP.frames} frames), one through a delaying link with its clock ${IN_STEP.clockShiftMs / 1000} s off`, {
    timeout: 120_000,
  }, async () => {
    const r = await measureScreenSkew(IN_STEP);
    const { perFrame, ...figures } = r;
    // The figures go into the issue; keep them where a person can find them after the run.
    writeFileSync(path.join(tmpdir(), 'easel-screens-in-step.json'), `${JSON.stringify(r, null, 2)}\n`);
    console.info(
      `screens in step: skew median ${r.medianMs} ms, p95 ${r.p95Ms} ms, max ${r.maxMs} ms (B − A median ${r.medianSignedMs} ms); ` +
        `seen ${r.seenA}/${r.seenB} of ${r.frames}; late ${r.late.a}/${r.late.b}; ` +
        `corner time − appearance ${r.shownTime.a?.differenceMs} / ${r.shownTime.b?.differenceMs} ms`,
    );

    // The harness itself: it found the frames on both screens, in order, with times from this
    // machine's clock (not the page's shifted one), and the shift did reach screen B's page.
    expect(figures).toMatchObject({ frames: IN_STEP.frames, outOfOrder: 0 });
    expect(r.seenA).toBeGreaterThanOrEqual(IN_STEP.minFramesSeen);
    expect(r.seenB).toBeGreaterThanOrEqual(IN_STEP.minFramesSeen);
    expect(r.paired).toBeGreaterThanOrEqual(IN_STEP.minFramesSeen);
    for (const seen of [r.recording.a, r.recording.b]) {
      expect(seen.pictures).toBeGreaterThanOrEqual(IN_STEP.frames);
      expect(Math.abs(seen.lagMedianMs)).toBeLessThan(500);
    }
    for (const seen of Object.values(r.clockShiftSeenMs)) expect(Math.abs(seen - IN_STEP.clockShiftMs)).toBeLessThan(100);
    expect(r.problems).toEqual({ a: [], b: [] });

    // The screens.
    expect(Math.abs(r.medianSignedMs)).toBeLessThanOrEqual(IN_STEP.maxSignedMedianMs);
    expect(r.medianMs).toBeLessThanOrEqual(IN_STEP.maxMedianSkewMs);
    expect(r.p95Ms).toBeLessThanOrEqual(IN_STEP.maxP95SkewMs);
    for (const late of [r.late.a, r.late.b]) {
      expect(late).not.toBeNull(); // the page counts late frames (stats.framesLate)
      expect(late!).toBeLessThanOrEqual(IN_STEP.maxLateFrames);
    }
    expect(perFrame).toHaveLength(IN_STEP.frames);

    // The time each screen shows is the moment its frame appeared there, within one frame
    // interval, on the server's clock: screen B's page clock is 5 s off and must not show.
    for (const shown of [r.shownTime.a, r.shownTime.b]) {
      expect(shown).not.toBeNull();
      expect(Math.abs(shown!.differenceMs)).toBeLessThanOrEqual(1000 / IN_STEP.fps);
    }
  });
});
