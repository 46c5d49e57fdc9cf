import { describe, expect, it } from 'vitest';
import { captureLogs } from '../../test/support/log-capture.js';
import { createEventBus, type EaselEvent } from '../control/events.js';
import type { JobSnapshot } from '../control/command-types.js';
import { createClusterJobs, readStoredJob } from './cluster-jobs.js';

const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
const job: JobSnapshot = {
  id: 'j-1',
  slug: 'wall',
  prompt: 'a boat',
  count: 4,
  produced: 1,
  state: 'generating',
  createdAt: '2026-01-01T00:00:00.000Z',
};

describe('jobs seen from any node', () => {
  it("writes this node's job changes to the store, not other nodes', and finds them back", async () => {
    const store = new Map<string, string>();
    const events = createEventBus();
    const remote = new WeakSet<EaselEvent>();
    const jobs = createClusterJobs({
      store: {
        async putJob(id, value) {
          store.set(id, value);
        },
        async getJob(id) {
          return store.get(id);
        },
      },
      events,
      nodeId: 'a',
      isRemote: (e) => remote.has(e),
      logger: captureLogs().logger,
    });
    events.emit({ type: 'job', job });
    const other = { type: 'job', job: { ...job, id: 'j-2' }, node: 'b' } as EaselEvent;
    remote.add(other);
    events.emit(other);
    await settle();
    expect([...store.keys()]).toEqual(['j-1']);
    expect(await jobs.find('j-1')).toEqual({ node: 'a', job });
    expect(await jobs.find('j-2')).toBeUndefined();
    expect(await jobs.find('x'.repeat(500))).toBeUndefined();
  });

  it('reads nothing from a stored value that is not a job', () => {
    for (const bad of [
      '',
      'nope',
      'null',
      '{"node":"a"}',
      '{"node":"a","job":{"id":"j","slug":"w","state":"exploded"}}',
      '{"node":1,"job":{}}',
    ])
      expect(readStoredJob(bad)).toBeUndefined();
    expect(readStoredJob(JSON.stringify({ node: 'a', job }))).toEqual({ node: 'a', job });
  });
});
