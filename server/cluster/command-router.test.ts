import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { EaselError } from '../errors.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createCommandRouter, type CommandRouter, type ControlBus, type RemoteRequest } from './command-router.js';
import { MAX_CONTROL_BYTES } from './control-wire.js';

const { logger, lines } = captureLogs('debug');
/** Lets promises settle without time passing (the clock is fake). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Routers joined by an in-memory bus: a node is there while it has a router; `deaf` nodes take messages and never read them. */
function network(clock: FakeClock) {
  const routers = new Map<string, CommandRouter>();
  const deaf = new Set<string>();
  const blobs = new Map<string, Buffer>();
  let owner: string | undefined;
  let down = false;
  const produced = new Set<string>();
  const busFor = (id: string): ControlBus => ({
    listening: () => !net.unsubscribed.has(id),
    async send(to, message) {
      if (down) throw new Error('Connection is closed.');
      if (deaf.has(to)) return 1;
      const r = routers.get(to);
      if (!r) return 0;
      setImmediate(() => r.receive(Buffer.from(message)));
      return 1;
    },
    async putBlob(key, data) {
      blobs.set(key, data);
    },
    async takeBlob(key) {
      const b = blobs.get(key);
      blobs.delete(key);
      return b;
    },
  });
  const add = (id: string, handler?: (r: RemoteRequest) => Promise<unknown>) => {
    const router = createCommandRouter({
      bus: busFor(id),
      nodeId: id,
      clock,
      logger,
      ownerOf: async () => {
        if (down) throw new Error('Connection is closed.');
        return owner;
      },
      producedHere: (slug) => produced.has(`${id}/${slug}`),
      ownerWaitMs: 2000,
      timeoutMs: 5000,
    });
    if (handler) router.serve(handler);
    routers.set(id, router);
    return router;
  };
  const net = {
    add,
    unsubscribed: new Set<string>(),
    blobs,
    deaf,
    routers,
    setOwner(id: string | undefined, slug = 'wall') {
      owner = id;
      produced.clear();
      if (id) produced.add(`${id}/${slug}`);
    },
    set down(v: boolean) {
      down = v;
    },
  };
  return net;
}

const origin = { via: 'http' as const, who: '10.0.0.9' };

describe('the command router', () => {
  it('has the owner carry out a command and gives back its result', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    const seen: RemoteRequest[] = [];
    net.add('a', async (r) => {
      seen.push(r);
      return { imageId: 'u-1' };
    });
    const b = net.add('b');
    net.setOwner('a');
    let local = 0;
    const result = await b.onCanvas('wall', 'pause', [origin], () => local++);
    expect(result).toEqual({ imageId: 'u-1' });
    expect(local).toBe(0);
    expect(seen).toEqual([{ op: 'pause', slug: 'wall', args: [origin], blob: undefined }]);
    expect(b.stats.forwarded).toBe(1);
    expect(net.routers.get('a')!.stats.served).toBe(1);
  });

  it('runs the command here when this node produces the canvas, without Redis', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    const a = net.add('a');
    net.setOwner('a');
    net.down = true;
    expect(await a.onCanvas('wall', 'pause', [origin], () => 'here')).toBe('here');
  });

  it("throws the owner's EaselError as it was, and a bug there as a plain error", async () => {
    const clock = new FakeClock();
    const net = network(clock);
    net.add('a', async (r) => {
      if (r.op === 'next') throw new TypeError('x is undefined');
      throw new EaselError('EASEL_ERR_REQUEST_INVALID', 'path: folder "/x" does not exist', {
        hint: 'Check the path',
        details: { field: 'path' },
      });
    });
    const b = net.add('b');
    net.setOwner('a');
    const err = await b.onCanvas('wall', 'setSource', [{}, origin], () => undefined).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EaselError);
    expect((err as EaselError).toJSON()).toEqual({
      code: 'EASEL_ERR_REQUEST_INVALID',
      message: 'path: folder "/x" does not exist',
      hint: 'Check the path',
      field: 'path',
    });
    const bug = await b.onCanvas('wall', 'next', [origin], () => undefined).catch((e: unknown) => e);
    expect(bug).not.toBeInstanceOf(EaselError);
    expect(String(bug)).toContain('x is undefined');
  });

  it('sends the image in a Redis key the owner takes once', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    let got: Buffer | undefined;
    net.add('a', async (r) => {
      got = r.blob;
      return { imageId: 'u-2' };
    });
    const b = net.add('b');
    net.setOwner('a');
    const image = Buffer.from('an image');
    await b.onCanvas('wall', 'showStill', [null, origin], () => undefined, image);
    expect(got).toEqual(image);
    expect(net.blobs.size).toBe(0);
  });

  it('waits for a canvas nobody holds and sends the command to the node that takes it', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    net.add('a', async () => 'done on a');
    const b = net.add('b');
    net.setOwner(undefined);
    const answer = b.onCanvas('wall', 'pause', [origin], () => 'here');
    await settle();
    clock.advance(1000);
    await settle();
    net.setOwner('a');
    for (let i = 0; i < 5; i++) {
      clock.advance(200);
      await settle();
    }
    expect(await answer).toBe('done on a');
    expect(b.stats.waited).toBe(1);
    expect(b.stats.moving).toBe(0);
  });

  it('answers 503 with Retry-After when no node takes the canvas within the wait', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    const b = net.add('b');
    net.setOwner(undefined);
    const answer = b.onCanvas('wall', 'pause', [origin], () => 'here').catch((e: unknown) => e);
    for (let i = 0; i < 15; i++) {
      clock.advance(200);
      await settle();
    }
    const err = (await answer) as EaselError;
    expect(err.code).toBe('EASEL_ERR_CANVAS_MOVING');
    expect(err.details).toMatchObject({ slug: 'wall', retryAfterSeconds: 2 });
    expect(b.stats.moving).toBe(1);
  });

  it('asks again when the owner says the canvas moved, or its holder is not there', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    net.add('c', async () => 'done on c');
    const b = net.add('b');
    // The lease names a node with no router (dead, lease not yet run out).
    net.setOwner('gone');
    const answer = b.onCanvas('wall', 'resume', [origin], () => 'here');
    await settle();
    net.setOwner('c');
    clock.advance(200);
    await settle();
    await settle();
    expect(await answer).toBe('done on c');
  });

  it('times out when the owner never answers, and counts the late reply it then ignores', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    net.add('a', async () => 'late');
    net.deaf.add('a');
    const b = net.add('b');
    net.setOwner('a');
    const answer = b.onCanvas('wall', 'pause', [origin], () => 'here').catch((e: unknown) => e);
    await settle();
    clock.advance(5000);
    const err = (await answer) as EaselError;
    expect(err.code).toBe('EASEL_ERR_NODE_TIMEOUT');
    expect(err.details).toMatchObject({ node: 'a', slug: 'wall' });
    expect(b.stats.timedOut).toBe(1);
    b.receive(Buffer.from(JSON.stringify({ kind: 'reply', id: 'whatever-it-was', from: 'a', ok: true, result: 'late' })));
    expect(b.stats.refused.unknownReply).toBe(1);
  });

  it('asks the next owner when the one asked loses the lease without answering (a power cut)', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    net.add('a', async () => 'never');
    net.deaf.add('a');
    net.add('c', async () => 'done on c');
    const b = net.add('b');
    net.setOwner('a');
    const answer = b.onCanvas('wall', 'pause', [origin], () => 'here');
    await settle();
    clock.advance(400);
    await settle();
    // a's lease runs out, c takes the canvas: b gives up on a long before its timeout.
    net.setOwner('c');
    for (let i = 0; i < 5; i++) {
      clock.advance(200);
      await settle();
    }
    expect(await answer).toBe('done on c');
    expect(b.stats.timedOut).toBe(0);
  });

  it('says Redis is unavailable when it cannot ask', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    const b = net.add('b');
    net.setOwner('a');
    net.unsubscribed.add('b');
    // Not listening yet (starting): a reply could not reach it, so it does not ask.
    const early = (await b.onCanvas('wall', 'pause', [origin], () => 'here').catch((e: unknown) => e)) as EaselError;
    expect(early.code).toBe('EASEL_ERR_REDIS_UNAVAILABLE');
    net.unsubscribed.clear();
    net.down = true;
    const err = (await b.onCanvas('wall', 'pause', [origin], () => 'here').catch((e: unknown) => e)) as EaselError;
    expect(err.code).toBe('EASEL_ERR_REDIS_UNAVAILABLE');
  });

  it('counts and ignores malformed, oversized and unasked-for messages, and never throws', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    let served = 0;
    const a = net.add('a', async () => served++);
    const junk = [
      'not json',
      '[]',
      'null',
      '{"kind":"request","id":"1","from":"b","op":"rm -rf","args":[]}',
      '{"kind":"request","id":"1","from":"b","op":"pause","args":"x"}',
      '{"kind":"request","id":"1","from":"b","op":"pause","args":[],"slug":7}',
      '{"kind":"reply","id":"1","from":"b"}',
      '{"kind":"reply","id":"1","from":"b","ok":false,"error":3}',
      '{"kind":"shout","id":"1","from":"b"}',
      `{"kind":"request","id":"${'x'.repeat(300)}","from":"b","op":"pause","args":[]}`,
    ];
    for (const j of junk) expect(() => a.receive(Buffer.from(j))).not.toThrow();
    a.receive(Buffer.alloc(MAX_CONTROL_BYTES + 1, 0x20));
    a.receive(Buffer.from('{"kind":"reply","id":"nobody","from":"b","ok":true}'));
    await settle();
    expect(a.stats.refused).toEqual({ malformed: junk.length, oversized: 1, unknownReply: 1 });
    expect(served).toBe(0);
    // One line a minute per kind, however many come.
    const ignored = lines.filter((l) => l.msg === 'Control message from Redis ignored');
    expect(ignored.map((l) => Number(l.bytes) > MAX_CONTROL_BYTES)).toEqual([false, true]);
  });

  it('answers moved for a canvas it does not produce, without carrying the command out', async () => {
    const clock = new FakeClock();
    const net = network(clock);
    let served = 0;
    net.add('a', async () => served++);
    const b = net.add('b');
    net.setOwner('a');
    // a's lease is in Redis but a no longer produces it (it just lost it): b asks, hears "moved", waits.
    net.setOwner('a', 'other-canvas');
    const answer = b.onCanvas('wall', 'pause', [origin], () => 'here').catch((e: unknown) => e);
    for (let i = 0; i < 15; i++) {
      clock.advance(200);
      await settle();
    }
    expect(((await answer) as EaselError).code).toBe('EASEL_ERR_CANVAS_MOVING');
    expect(served).toBe(0);
  });
});
