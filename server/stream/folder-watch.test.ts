import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { watchFolder, type FolderWatchOptions, type ScanReason } from './folder-watch.js';

const folders: string[] = [];
const controllers: AbortController[] = [];
afterEach(() => {
  for (const c of controllers.splice(0)) c.abort();
  for (const f of folders.splice(0)) rmSync(f, { recursive: true, force: true });
});

/** A real temporary folder, watched on a fake clock: events are real, the waiting is not. */
function setup(overrides: Partial<FolderWatchOptions> = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-watch-'));
  folders.push(dir);
  const clock = new FakeClock();
  const controller = new AbortController();
  controllers.push(controller);
  const scans: ScanReason[] = [];
  const folder = watchFolder({
    dir,
    clock,
    signal: controller.signal,
    debounceMs: 100,
    rescanIntervalMs: 5000,
    scan: async (reason) => {
      scans.push(reason);
      return true;
    },
    ...overrides,
  });
  return { dir, clock, controller, scans, folder };
}

/** Lets the scans that timers started run to the end. */
const settle = () => new Promise((r) => setTimeout(r, 10));

describe('watchFolder', () => {
  it('scans once after a burst of changes has been quiet for the debounce time', async () => {
    const { dir, clock, scans, folder } = setup();
    await folder.rescan(); // the first look starts the watch
    for (const name of ['a', 'b', 'c']) writeFileSync(path.join(dir, name), name);
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(2)); // the safety net and the quiet time
    await settle(); // any straggling event of the burst
    clock.advance(99);
    await settle();
    expect(scans).toEqual(['call']);
    clock.advance(1);
    await vi.waitFor(() => expect(scans).toEqual(['call', 'event']));
  });

  it('rescans on its own every interval, in case change events get lost', async () => {
    const { clock, scans } = setup();
    for (let i = 0; i < 3; i++) {
      clock.advance(5000);
      await settle();
    }
    expect(scans).toEqual(['timer', 'timer', 'timer']);
  });

  it('never runs two scans at once', async () => {
    let running = 0;
    let most = 0;
    const { folder } = setup({
      scan: async () => {
        most = Math.max(most, ++running);
        await settle();
        running--;
        return true;
      },
    });
    await Promise.all([folder.rescan(), folder.rescan(), folder.rescan()]);
    expect(most).toBe(1);
  });

  it('watches a folder only once it can be read, and again after it came back', async () => {
    const parent = mkdtempSync(path.join(tmpdir(), 'easel-watch-'));
    folders.push(parent);
    const dir = path.join(parent, 'later');
    let readable = false;
    const { clock, scans, folder } = setup({ dir, scan: async (reason) => (scans.push(reason), readable) });
    await folder.rescan();
    mkdirSync(dir);
    readable = true;
    await folder.rescan();
    writeFileSync(path.join(dir, 'new'), 'x');
    await vi.waitFor(() => expect(clock.pendingTimers).toBe(2));
    clock.advance(100);
    await vi.waitFor(() => expect(scans).toEqual(['call', 'call', 'event']));
  });

  it('rescanAfter waits out the time given, and a later call replaces an earlier one', async () => {
    const { clock, scans, folder } = setup();
    folder.rescanAfter(1000);
    clock.advance(500);
    folder.rescanAfter(1000);
    clock.advance(900);
    await settle();
    expect(scans).toEqual([]);
    clock.advance(100);
    await vi.waitFor(() => expect(scans).toEqual(['call']));
  });

  it('stops watching and leaves no timer once its signal aborts', async () => {
    const { dir, clock, controller, scans, folder } = setup();
    await folder.rescan();
    folder.rescanAfter(100);
    controller.abort();
    expect(clock.pendingTimers).toBe(0);
    writeFileSync(path.join(dir, 'late'), 'x');
    await folder.rescan();
    await settle();
    clock.advance(10_000);
    expect(scans).toEqual(['call']);
    expect(clock.pendingTimers).toBe(0);
  });
});
