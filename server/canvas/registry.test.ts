import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { putImage, solidPng } from '../../test/support/images.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { loadConfig } from '../config.js';
import { chooseRendition } from '../stream/rendition.js';
import { createDisplay } from './channel.js';
import { createRegistry } from './registry.js';
import type { Canvas } from './canvas.js';
import { quickRenderer } from '../../test/support/test-renderer.js';

/**
 * The life of a canvas a display created, on a fake clock: nothing before its display, no
 * slots while none watches, gone `createdCanvasIdleSeconds` after the last one left. Renders
 * are real (sharp), so each step lets them finish before moving the clock.
 */
const dirs: string[] = [];
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

async function setUp() {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-registry-'));
  dirs.push(dir);
  putImage(dir, 'a.png', await solidPng('#ff0000', 64, 64));
  putImage(dir, 'b.png', await solidPng('#0000ff', 64, 64));
  const config = loadConfig({
    env: { EASEL_CANVASES: '[]', EASEL_FOLDER: dir, EASEL_CREATED_CANVAS_IDLE_SECONDS: '60' },
    argv: [],
    configDir: dir,
  });
  const clock = new FakeClock(Date.now());
  const removed: string[] = [];
  const renderer = quickRenderer();
  const registry = createRegistry({
    config,
    renderer,
    clock,
    logger: captureLogs().logger,
    onRemoved: (slug, reason) => removed.push(`${slug}:${reason}`),
  });
  cleanups.push(() => registry.closeAll());
  /** Moves the clock a slot at a time, letting renders finish in between. */
  const run = async (ms: number) => {
    for (let t = 0; t < ms; t += 250) {
      await new Promise((r) => setTimeout(r, 5));
      clock.advance(Math.min(250, ms - t));
    }
  };
  const display = (canvas: Canvas) =>
    createDisplay({
      socket: {
        send: () => 1,
        subscribe: () => true,
        unsubscribe: () => true,
        getBufferedAmount: () => 0,
        end: () => undefined,
        close: () => undefined,
      },
      mode: 'binary',
      spec: chooseRendition(canvas.config, { mode: 'binary', accept: [] }),
      remoteAddress: '127.0.0.1',
      userAgent: 'test',
      now: clock.now(),
    });
  return { registry, clock, removed, run, display };
}

describe('a canvas a display created', () => {
  it('publishes nothing before its display, streams with it, rests without it, and is removed after its idle time', async () => {
    const { registry, clock, removed, run, display } = await setUp();
    const canvas = registry.getOrCreate('visitor')!;
    await run(3000);
    expect(canvas.started).toBe(false);
    expect(canvas.snapshot().counters.published).toBe(0);

    const d = display(canvas);
    canvas.attach(d);
    await vi.waitFor(
      async () => {
        await run(250);
        expect(canvas.snapshot().counters.published).toBeGreaterThanOrEqual(3);
      },
      { timeout: 10_000, interval: 0 },
    );

    canvas.detach(d);
    const published = canvas.snapshot().counters.published;
    await run(2000);
    clock.advance(28_000);
    expect(canvas.snapshot().counters.published).toBe(published); // no slots while nobody watches
    expect(registry.get('visitor')).toBe(canvas);
    clock.advance(31_000);
    expect(registry.get('visitor')).toBeUndefined();
    await vi.waitFor(() => expect(removed).toEqual(['visitor:idle']));
  });

  it('stays, and streams again, when a display comes back within its idle time', async () => {
    const { registry, clock, removed, run, display } = await setUp();
    const canvas = registry.getOrCreate('returning')!;
    const first = display(canvas);
    canvas.attach(first);
    await run(1000);
    canvas.detach(first);
    clock.advance(50_000);
    canvas.attach(display(canvas));
    const before = canvas.snapshot().counters.published;
    await vi.waitFor(
      async () => {
        await run(250);
        expect(canvas.snapshot().counters.published).toBeGreaterThan(before);
      },
      { timeout: 10_000, interval: 0 },
    );
    clock.advance(120_000);
    expect(registry.get('returning')).toBe(canvas);
    expect(removed).toEqual([]);
  });

  it('is reaped when its display never comes in (an upgrade that never opened)', async () => {
    const { registry, clock } = await setUp();
    registry.getOrCreate('ghost');
    clock.advance(59_000);
    expect(registry.get('ghost')).toBeDefined();
    clock.advance(2000);
    expect(registry.get('ghost')).toBeUndefined();
  });
});

describe('declared canvases', () => {
  it('are never reaped and are told apart from created ones', async () => {
    const { registry } = await setUp();
    const dir = dirs.at(-1)!;
    const declared = createRegistry({
      config: loadConfig({
        env: { EASEL_CANVASES: JSON.stringify([{ slug: 'left-canva' }]), EASEL_FOLDER: dir, EASEL_CREATED_CANVAS_IDLE_SECONDS: '1' },
        argv: [],
        configDir: dir,
      }),
      renderer: quickRenderer(),
      clock: new FakeClock(Date.now()),
      logger: captureLogs().logger,
    });
    cleanups.push(() => declared.closeAll());
    declared.startDeclared();
    expect(declared.isDeclared('left-canva')).toBe(true);
    registry.getOrCreate('made');
    expect(registry.isDeclared('made')).toBe(false);
    expect(() => declared.existing('left-canvas')).toThrow('No canvas "left-canvas": did you mean "left-canva"?');
  });
});

describe('declared canvases in cluster mode', () => {
  it('wait for their lease, publish only while it is held, and hold their last frame when it goes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'easel-registry-'));
    dirs.push(dir);
    putImage(dir, 'a.png', await solidPng('#ff0000', 64, 64));
    putImage(dir, 'b.png', await solidPng('#0000ff', 64, 64));
    const clock = new FakeClock(Date.now());
    let leased = false;
    const registry = createRegistry({
      config: loadConfig({ env: { EASEL_CANVASES: JSON.stringify([{ slug: 'wall' }]), EASEL_FOLDER: dir }, argv: [], configDir: dir }),
      renderer: quickRenderer(),
      clock,
      logger: captureLogs().logger,
      mayPublish: () => leased,
    });
    cleanups.push(() => registry.closeAll());
    const run = async (ms: number) => {
      for (let t = 0; t < ms; t += 250) {
        await new Promise((r) => setTimeout(r, 5));
        clock.advance(Math.min(250, ms - t));
      }
    };
    const published = () => registry.existing('wall').snapshot().counters.published;

    registry.startDeclared(undefined, { startNow: false });
    await run(2000);
    expect(registry.existing('wall').started).toBe(false);
    expect(published()).toBe(0);

    leased = true;
    registry.produce('wall', true);
    await run(3000);
    const whileHeld = published();
    expect(whileHeld).toBeGreaterThanOrEqual(4);

    // The lease is gone (taken, or run out): not one more frame, even before produce(false) is called.
    leased = false;
    await run(2000);
    expect(published()).toBe(whileHeld);
    expect(registry.existing('wall').next()).toBe(false);
    registry.produce('wall', false);
    leased = true;
    registry.produce('wall', true);
    await run(2000);
    expect(published()).toBeGreaterThan(whileHeld);
  });
});
