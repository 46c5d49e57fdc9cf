import { describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { createEventBus, type EaselEvent } from '../control/events.js';
import { createClusterEvents, MAX_EVENT_BYTES } from './cluster-events.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Nodes whose buses are joined by an in-memory channel, as Redis pub/sub joins them: every node hears every message, its own included. */
function cluster(ids: string[], shareable: (e: EaselEvent) => boolean = () => true) {
  const { logger } = captureLogs('debug');
  const clock = new FakeClock();
  const nodes = ids.map((id) => {
    const events = createEventBus();
    const heard: EaselEvent[] = [];
    events.subscribe((e) => heard.push(e));
    return { id, events, heard, bridge: undefined as unknown as ReturnType<typeof createClusterEvents> };
  });
  const published: string[] = [];
  for (const node of nodes) {
    node.bridge = createClusterEvents({
      bus: {
        async publishEvent(message) {
          published.push(message);
          for (const n of nodes) setImmediate(() => n.bridge.receive(Buffer.from(message)));
        },
      },
      events: node.events,
      nodeId: node.id,
      clock,
      logger,
      shareable,
    });
  }
  return { nodes, published };
}

const pause: EaselEvent = { type: 'command', slug: 'wall', command: 'pause', origin: { via: 'http', who: '10.0.0.9' } };

describe('events across the cluster', () => {
  it("puts each node's events on every other node's bus once, tagged with the node, and never echoes them back", async () => {
    const { nodes, published } = cluster(['a', 'b', 'c']);
    const [a, b, c] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    a.events.emit(pause);
    await settle();
    await settle();
    expect(published).toHaveLength(1);
    expect(a.heard).toEqual([pause]);
    expect(b.heard).toEqual([{ ...pause, node: 'a' }]);
    expect(c.heard).toEqual([{ ...pause, node: 'a' }]);
    expect(b.bridge.isRemote(b.heard[0]!)).toBe(true);
    expect(a.bridge.stats.refused.own).toBe(1);
    expect(b.bridge.stats).toMatchObject({ published: 0, emitted: 1 });
  });

  it('carries display and source events too (webhooks and OSC out are told them by the node where they happen)', async () => {
    const { nodes } = cluster(['a', 'b']);
    const display: EaselEvent = { type: 'display', slug: 'wall', event: 'connected', display: 3, address: '10.0.0.7', displays: 1 };
    const source: EaselEvent = { type: 'source', slug: 'wall', health: 'down', state: 'failed', code: 'EASEL_ERR_FOLDER_MISSING' };
    nodes[0]!.events.emit(display);
    nodes[0]!.events.emit(source);
    await settle();
    await settle();
    expect(nodes[1]!.heard).toEqual([
      { ...display, node: 'a' },
      { ...source, node: 'a' },
    ]);
    expect(nodes[1]!.bridge.stats.refused.malformed).toBe(0);
  });

  it('keeps to itself what it says is not for the cluster', async () => {
    const { nodes, published } = cluster(['a', 'b'], (e) => e.type !== 'canvas');
    nodes[0]!.events.emit({ type: 'canvas', slug: 'wall', state: 'streaming' });
    await settle();
    expect(published).toHaveLength(0);
    expect(nodes[1]!.heard).toEqual([]);
  });

  it('counts and ignores malformed and oversized messages, and never throws', async () => {
    const { nodes } = cluster(['a']);
    const a = nodes[0]!;
    const junk = [
      'nope',
      'null',
      '{"node":"x"}',
      '{"node":"x","event":{"type":"frame"}}',
      '{"node":5,"event":{"type":"job"}}',
      '{"node":"x","event":[1]}',
    ];
    for (const j of junk) expect(() => a.bridge.receive(Buffer.from(j))).not.toThrow();
    a.bridge.receive(Buffer.alloc(MAX_EVENT_BYTES + 1, 0x20));
    expect(a.bridge.stats.refused).toMatchObject({ malformed: junk.length, oversized: 1 });
    expect(a.heard).toEqual([]);
  });

  it('counts events Redis does not take, and goes on', async () => {
    const { logger, lines } = captureLogs('debug');
    const events = createEventBus();
    const bridge = createClusterEvents({
      bus: { publishEvent: () => Promise.reject(new Error('Connection is closed.')) },
      events,
      nodeId: 'a',
      clock: new FakeClock(),
      logger,
      shareable: () => true,
    });
    events.emit(pause);
    events.emit(pause);
    await settle();
    expect(bridge.stats.publishFailed).toBe(2);
    expect(lines.filter((l) => String(l.msg).startsWith('Events not sent'))).toHaveLength(1);
  });
});
