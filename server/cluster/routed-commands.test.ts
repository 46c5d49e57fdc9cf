import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../control/command-types.js';
import type { Commands } from '../control/playlist-commands.js';
import { EaselError } from '../errors.js';
import type { CommandRouter } from './command-router.js';
import { remoteHandler, routeCommands } from './routed-commands.js';

const origin = { via: 'osc' as const, who: '10.0.0.9:9000' };
const job: JobSnapshot = {
  id: 'j-1',
  slug: 'wall',
  prompt: 'a boat',
  count: 4,
  produced: 0,
  state: 'queued',
  createdAt: '2026-01-01T00:00:00.000Z',
};
const notFound = () => new EaselError('EASEL_ERR_NOT_FOUND', 'No job "j-1"', { hint: 'Jobs are kept for the last 200 prompts' });

/** Records what would cross to another node; `remote` answers for it. */
function recorder(remote: (op: string, args: unknown[]) => unknown = () => 'remote') {
  const asked: Array<{ where: string; op: string; args: unknown[]; blob?: Buffer }> = [];
  const router = {
    async onCanvas(slug: string, op: string, args: unknown[], _local: () => unknown, blob?: Buffer) {
      asked.push({ where: slug, op, args, ...(blob ? { blob } : {}) });
      return remote(op, args);
    },
    async onNode(node: string, op: string, args: unknown[]) {
      asked.push({ where: `node:${node}`, op, args });
      return remote(op, args);
    },
  } as unknown as CommandRouter;
  return { router, asked };
}

function local() {
  const calls: string[] = [];
  const commands = {
    setPrompt: async (slug: string) => (calls.push(`prompt ${slug}`), job),
    setSource: async (slug: string) => void calls.push(`source ${slug}`),
    pause: (slug: string) => void calls.push(`pause ${slug}`),
    resume: (slug: string) => void calls.push(`resume ${slug}`),
    next: (slug: string) => void calls.push(`next ${slug}`),
    showStill: async (slug: string) => (calls.push(`still ${slug}`), { imageId: 'u-1' }),
    job: () => {
      throw notFound();
    },
    cancelJob: () => {
      throw notFound();
    },
  };
  return { commands: commands as unknown as Commands, calls };
}

const limits = { maxFileBytes: 100, limitInputPixels: 1e6 };

describe('commands routed in a cluster', () => {
  it('sends commands on declared canvases through the router and keeps the others here', async () => {
    const { router, asked } = recorder();
    const { commands, calls } = local();
    const routed = routeCommands(commands, {
      router,
      shared: (s) => s === 'wall',
      imageLimits: limits,
      jobs: { find: async () => undefined },
      nodeId: 'b',
    });
    expect(await routed.pause('wall', origin)).toBe('remote');
    expect(routed.pause('made-here', origin)).toBeUndefined();
    await routed.showStill!('wall', Buffer.from('img'), Infinity, origin);
    expect(calls).toEqual(['pause made-here']);
    expect(asked).toEqual([
      { where: 'wall', op: 'pause', args: [origin] },
      { where: 'wall', op: 'showStill', args: [null, origin], blob: Buffer.from('img') },
    ]);
  });

  it('refuses an image over render.maxFileBytes before it goes anywhere', () => {
    const { router, asked } = recorder();
    const routed = routeCommands(local().commands, {
      router,
      shared: () => true,
      imageLimits: limits,
      jobs: { find: async () => undefined },
      nodeId: 'b',
    });
    expect(() => routed.showStill!('wall', Buffer.alloc(101), 0, origin)).toThrow(
      expect.objectContaining({ code: 'EASEL_ERR_IMAGE_TOO_LARGE' }),
    );
    expect(asked).toEqual([]);
  });

  it("reads another node's job from the store and sends its cancel to that node", async () => {
    const { router, asked } = recorder(() => ({ ...job, state: 'cancelled' }));
    const routed = routeCommands(local().commands, {
      router,
      shared: () => true,
      imageLimits: limits,
      jobs: { find: async (id) => (id === 'j-1' ? { node: 'a', job } : undefined) },
      nodeId: 'b',
    });
    expect(await routed.job!('j-1')).toEqual(job);
    await expect(Promise.resolve().then(() => routed.job!('j-2'))).rejects.toMatchObject({ code: 'EASEL_ERR_NOT_FOUND' });
    expect(await routed.cancelJob!('j-1', origin)).toMatchObject({ state: 'cancelled' });
    expect(asked).toEqual([{ where: 'node:a', op: 'cancelJob', args: ['j-1', origin] }]);
  });

  it("says a running job's node has left when nobody answers for it", async () => {
    const { router } = recorder(() => 'absent');
    const routed = routeCommands(local().commands, {
      router,
      shared: () => true,
      imageLimits: limits,
      jobs: { find: async () => ({ node: 'a', job }) },
      nodeId: 'b',
    });
    await expect(routed.cancelJob!('j-1', origin)).rejects.toMatchObject({ code: 'EASEL_ERR_NOT_FOUND', details: { node: 'a' } });
  });
});

describe("the owner's side", () => {
  it('carries out what another node sent with its own commands, and refuses what does not read', async () => {
    const { commands, calls } = local();
    const handle = remoteHandler(commands, (slug) => ({ slug, state: 'paused' }));
    await handle({ op: 'pause', slug: 'wall', args: [{ via: 'evil', who: 42 }], blob: undefined });
    expect(await handle({ op: 'describe', slug: 'wall', args: [], blob: undefined })).toEqual({ slug: 'wall', state: 'paused' });
    expect(await handle({ op: 'showStill', slug: 'wall', args: [null, origin], blob: Buffer.from('x') })).toEqual({ imageId: 'u-1' });
    expect(calls).toEqual(['pause wall', 'still wall']);
    for (const bad of [
      { op: 'showStill' as const, slug: 'wall', args: [-1, origin], blob: Buffer.from('x') },
      { op: 'showStill' as const, slug: 'wall', args: [0, origin], blob: undefined },
      { op: 'startPlaylist' as const, slug: 'wall', args: [{}, origin], blob: undefined },
      { op: 'cancelJob' as const, slug: undefined, args: [7], blob: undefined },
      { op: 'pause' as const, slug: undefined, args: [origin], blob: undefined },
    ])
      await expect(handle(bad)).rejects.toMatchObject({ code: 'EASEL_ERR_REQUEST_INVALID' });
  });

  it("keeps a playlist's step another node sent only when it is a whole number above 0", async () => {
    const origins: unknown[] = [];
    const commands = { setPrompt: async (_slug: string, _command: unknown, o: unknown) => (origins.push(o), job) };
    const handle = remoteHandler(commands as unknown as Commands, () => undefined);
    for (const step of [2, 0, -1, 1.5, '3', 2 ** 60, null])
      await handle({
        op: 'setPrompt',
        slug: 'wall',
        args: [{ prompt: 'a harbour' }, { via: 'playlist', who: 'night', step }],
        blob: undefined,
      });
    expect(origins).toEqual([
      { via: 'playlist', who: 'night', step: 2 },
      ...Array.from({ length: 6 }, () => ({ via: 'playlist', who: 'night' })),
    ]);
  });

  it('keeps the archive entry a still came from only when it reads as an archive id', async () => {
    const origins: unknown[] = [];
    const commands = {
      showStill: async (_slug: string, _image: Buffer, _hold: number, o: unknown) => (origins.push(o), { imageId: 'u-1' }),
    };
    const handle = remoteHandler(commands as unknown as Commands, () => undefined);
    for (const archiveId of ['wall-1.20261201.190512345-ab12cd34', '../../etc/passwd', 42, null, 'x'.repeat(500)])
      await handle({ op: 'showStill', slug: 'wall', args: [30_000, { via: 'http', who: '10.0.0.5', archiveId }], blob: Buffer.from('x') });
    expect(origins).toEqual([
      { via: 'http', who: '10.0.0.5', archiveId: 'wall-1.20261201.190512345-ab12cd34' },
      ...Array.from({ length: 4 }, () => ({ via: 'http', who: '10.0.0.5' })),
    ]);
  });
});
