import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../test/support/log-capture.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { useRedisServer } from '../../test/support/redis-clients.js';
import { systemClock, type Clock } from '../stream/clock.js';
import { createClockSync, judgeClock, MAX_CLOCK_OFFSET_MS } from './clock-sync.js';
import { createReferenceClock } from './reference-clock.js';

/**
 * A Redis on a fake clock: TIME reads `local + offset` after `up` ms on the way there, and the
 * answer takes `down` ms back; `delays` gives them per call (a busy box, a lopsided link).
 */
function fakeRedis(local: FakeClock, offset: { ms: number }, delays: () => [number, number] = () => [1, 1]) {
  let calls = 0;
  return {
    get calls() {
      return calls;
    },
    time: async (): Promise<[string, string]> => {
      calls++;
      const [up, down] = delays();
      local.advance(up);
      const t = local.now() + offset.ms;
      local.advance(down);
      return [String(Math.floor(t / 1000)), String(Math.round((t % 1000) * 1000))];
    },
  };
}

function setup(offsetMs: number, delays?: () => [number, number]) {
  const local = new FakeClock(1_800_000_000_000);
  const offset = { ms: offsetMs };
  const redis = fakeRedis(local, offset, delays);
  const reference = createReferenceClock({ local });
  const logs = captureLogs('debug');
  const sync = createClockSync({ time: redis.time, local, reference, nodeId: 'node-x', logger: logs.logger });
  return { local, offset, redis, reference, logs, sync };
}

/** A seeded generator, so a failure can be replayed. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('clock sync against Redis TIME', () => {
  it('judges a clock: ok within the bound, far beyond it (corrected), unsynced when the correction is unsure', () => {
    const e = (offsetMs: number, errorMs = 1) => ({ offsetMs, errorMs, rttMs: 2 * errorMs, samples: 5 });
    expect(judgeClock(e(3), 3)).toBe('ok');
    expect(judgeClock(e(-2000), -2000)).toBe('far');
    expect(judgeClock(e(3, MAX_CLOCK_OFFSET_MS + 1), 3)).toBe('unsynced');
    expect(judgeClock(e(-2000), 0)).toBe('unsynced'); // not yet corrected
    expect(judgeClock(null, 0)).toBe('unsynced');
  });

  it('finds a node clock 2 s behind despite lopsided round trips, and corrects to within the error it states', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const rnd = random(seed);
      // Up to 40 ms each way, often very lopsided, as on a busy 2-core box.
      const { sync, reference, local } = setup(2000, () => [rnd() * 40, rnd() < 0.3 ? rnd() * 40 : rnd() * 2]);
      for (let i = 0; i < 4; i++) await sync.measure();
      const status = sync.status();
      expect(Math.abs(status.offsetMs! - 2000), `seed ${seed}`).toBeLessThanOrEqual(status.errorMs! + 0.1);
      // The first burst was stepped to; what the later ones refined is slewed in (at most stepMs at 200 ppm: 50 s).
      expect(Math.abs(reference.now() - (local.now() + 2000)), `seed ${seed}`).toBeLessThanOrEqual(status.errorMs! + 10.1);
      local.advance(50_000);
      expect(Math.abs(reference.now() - (local.now() + 2000)), `seed ${seed}`).toBeLessThanOrEqual(status.errorMs! + 0.1);
    }
  });

  it('steps to the first estimate, calls a clock 2 s off far, and says so once with what to do', async () => {
    const { sync, reference, local, logs } = setup(2000);
    expect(sync.status()).toMatchObject({ offsetMs: null, state: 'unsynced' });
    const ready = sync.ready(60_000);
    await sync.measure();
    expect(await ready).toBe(true);
    expect(sync.status()).toMatchObject({ state: 'far' });
    expect(sync.status().correctionMs).toBeCloseTo(2000, 0);
    expect(reference.now() - local.now()).toBeCloseTo(2000, 0);
    await sync.measure();
    await sync.measure();
    const far = logs.lines.filter((l) => String(l.msg).includes("clock is 2000 ms behind Redis's"));
    expect(far).toHaveLength(1);
    expect(far[0]!.msg).toMatch(/NTP \(chrony\)/);
    expect(far[0]).toMatchObject({ level: 40, nodeId: 'node-x' });
  });

  it('says nothing for a clock in step', async () => {
    const { sync, logs } = setup(3);
    await sync.measure();
    expect(sync.status().state).toBe('ok');
    expect(logs.lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
  });

  it('follows a slow drift by slewing, never by stepping', async () => {
    const { sync, reference, local, offset } = setup(0);
    await sync.measure();
    const stepsBefore = reference.steps;
    let last = reference.now();
    for (let i = 0; i < 60; i++) {
      offset.ms += 0.25; // 50 ppm over 5 s
      local.advance(5000);
      await sync.measure();
      expect(reference.now()).toBeGreaterThan(last);
      last = reference.now();
    }
    expect(reference.steps).toBe(stepsBefore);
    expect(Math.abs(reference.correctionMs - offset.ms)).toBeLessThan(2);
  });

  it('takes a step back of half a second by holding still, within one burst: never back', async () => {
    const { sync, reference, local, offset, logs } = setup(0);
    await sync.measure();
    const before = reference.now();
    offset.ms = -500;
    await sync.measure();
    expect(reference.correctionMs).toBeCloseTo(-500, 0);
    expect(reference.now()).toBeGreaterThanOrEqual(before);
    local.advance(200);
    expect(reference.now()).toBe(before); // still holding
    local.advance(400);
    expect(reference.now() - (local.now() - 500)).toBeCloseTo(0, 0);
    expect(sync.status().state).toBe('far');
    expect(logs.lines.filter((l) => String(l.msg).includes('correction stepped'))).toHaveLength(1);
  });

  it('follows a jump forward at once (a node whose machine was suspended: its monotonic clock stopped)', async () => {
    const { sync, reference, local, offset } = setup(0);
    await sync.measure();
    offset.ms = 30_000;
    await sync.measure();
    expect(reference.now() - local.now()).toBeCloseTo(30_000, 0);
    expect(sync.status().state).toBe('far');
  });

  it('does not follow Redis’s clock 3 s back: keeps its time, says unsynced and what to do once, and heals when it returns', async () => {
    const { sync, reference, local, offset, logs } = setup(0);
    await sync.measure();
    offset.ms = -3000;
    for (let i = 0; i < 4; i++) {
      await sync.measure();
      local.advance(5000);
    }
    expect(reference.now() - local.now()).toBeCloseTo(0, 0);
    expect(sync.status().state).toBe('unsynced');
    const said = logs.lines.filter((l) => (l.level as number) >= 40);
    expect(said).toHaveLength(1);
    expect(said[0]!.msg).toMatch(/^Redis's clock went back 3\d\d\d ms .*fix the Redis host's clock \(NTP\)/);
    offset.ms = 0; // put right
    for (let i = 0; i < 2; i++) await sync.measure();
    expect(sync.status().state).toBe('ok');
    expect(logs.lines.filter((l) => (l.level as number) >= 40)).toHaveLength(1);
  });

  it('sets aside one answer that disagrees with the rest (one reading off by 300 ms), without stepping', async () => {
    let n = 0;
    const { sync, reference, offset } = setup(500, () => {
      // The reading of call 8 alone is wrong; the fake reads `offset` just after this.
      offset.ms = ++n === 8 ? 800 : 500;
      return [1, 1];
    });
    await sync.measure();
    const steps = reference.steps;
    await sync.measure();
    expect(Math.abs(sync.status().offsetMs! - 500)).toBeLessThan(2);
    expect(reference.steps).toBe(steps);
    expect(Math.abs(reference.correctionMs - 500)).toBeLessThan(2);
  });

  it('waits for Redis: no estimate, ready says false after its timeout, and the first answer settles it', async () => {
    const local = new FakeClock();
    const reference = createReferenceClock({ local });
    let up = false;
    const sync = createClockSync({
      time: async () => {
        if (!up) throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
        const t = local.now();
        return [String(Math.floor(t / 1000)), String((t % 1000) * 1000)];
      },
      local,
      reference,
      nodeId: 'node-x',
    });
    sync.start();
    const early = sync.ready(1000);
    await Promise.resolve();
    local.advance(1000);
    expect(await early).toBe(false);
    expect(sync.status()).toMatchObject({ offsetMs: null, state: 'unsynced' });
    up = true;
    const later = sync.ready(10_000);
    for (let i = 0; i < 10 && sync.status().offsetMs === null; i++) {
      local.advance(500);
      await new Promise((r) => setImmediate(r));
    }
    expect(await later).toBe(true);
    expect(sync.status().state).toBe('ok');
    sync.close();
  });

  it('takes a TIME reply that is not a time as no sample: no estimate, no step, nothing thrown', async () => {
    const local = new FakeClock();
    const reference = createReferenceClock({ local });
    const replies: Array<ReadonlyArray<string | number>> = [['not', 'a time'], [], ['1e400', '0'], ['-5', '0'], ['12', '5']];
    let n = 0;
    const sync = createClockSync({ time: async () => replies[n++ % replies.length]!, local, reference, nodeId: 'node-x' });
    for (let i = 0; i < 3; i++) await sync.measure();
    expect(sync.status()).toMatchObject({ offsetMs: null, state: 'unsynced', correctionMs: 0 });
    expect(reference.steps).toBe(0);
    expect(reference.now()).toBe(local.now());
  });

  it('says once when Redis refuses TIME, and goes on uncorrected', async () => {
    const local = new FakeClock();
    const logs = captureLogs('debug');
    const refused = Object.assign(new Error("ERR unknown command 'TIME'"), { name: 'ReplyError' });
    const sync = createClockSync({
      time: async () => {
        throw refused;
      },
      local,
      reference: createReferenceClock({ local }),
      nodeId: 'node-x',
      logger: logs.logger,
    });
    const ready = sync.ready(60_000);
    sync.start();
    expect(await ready).toBe(false);
    for (let i = 0; i < 5; i++) {
      local.advance(500);
      await new Promise((r) => setImmediate(r));
    }
    expect(logs.lines.filter((l) => String(l.msg).includes('Redis refuses TIME'))).toHaveLength(1);
    sync.close();
  });
});

describe('clock sync on a real redis-server', () => {
  const redisServer = useRedisServer();

  it('measures a node clock 5 s ahead at about -5000 ms and corrects the cluster clock to Redis’s', async () => {
    const redis = await redisServer.connect();
    const ahead: Clock = { ...systemClock, now: () => systemClock.now() + 5000 };
    const reference = createReferenceClock({ local: ahead });
    const sync = createClockSync({ time: () => redis.time(), local: ahead, reference, nodeId: 'node-ahead' });
    const status = await sync.measure();
    expect(status.offsetMs).toBeLessThan(-4900);
    expect(status.offsetMs).toBeGreaterThan(-5100);
    expect(status.state).toBe('far');
    const [s, us] = await redis.time();
    const redisNow = Number(s) * 1000 + Number(us) / 1000;
    expect(Math.abs(reference.now() - redisNow)).toBeLessThan(100);
    sync.close();
  });
});
