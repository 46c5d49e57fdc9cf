import type { Registry } from '../canvas/registry.js';
import type { ScreenSync } from '../../protocol/screen-sync.js';
import type { CanvasCommands, CommandOrigin } from '../control/command-types.js';
import type { CanvasRemoval } from '../control/commands.js';
import { EaselError } from '../errors.js';
import { parseRequest } from '../input/problems.js';
import { playlistCommand, promptCommand, sourceCommand } from '../input/shapes.js';
import type { ImageFormat } from '../stream/rendition.js';
import { jsonBody, type ApiRequest, type createApi } from './http.js';

export interface CanvasRouteDeps {
  api: ReturnType<typeof createApi>;
  commands: CanvasCommands & CanvasRemoval;
  registry: Registry;
  maxBodyBytes: number;
  /** Extra facts per canvas from other parts (playlist position, current job). */
  extras: (slug: string) => Record<string, unknown>;
  /** Cluster mode: a canvas as the cluster sees it (its owner's state when another node produces it). */
  view?: <T extends { slug: string }>(canvas: T) => Promise<T> | T;
  /** Cluster mode: a canvas another node produces, its state as that node has it after a command; undefined: this node's own. */
  ownerView?: (slug: string) => Promise<Record<string, unknown> | undefined>;
}

const origin = (req: ApiRequest): CommandOrigin => ({
  via: req.headers['user-agent']?.startsWith('easel-cli') ? 'cli' : 'http',
  who: req.remoteAddress,
});

/** The operator API over canvases and jobs (docs/api.md). */
export function registerCanvasRoutes(deps: CanvasRouteDeps): { canvasState: (slug: string) => Record<string, unknown> } {
  const { api, commands, registry } = deps;
  const canvasState = (slug: string) => ({ ...commands.get(slug), ...deps.extras(slug) });
  const describe = (slug: string) => ({ ...canvasState(slug), displayList: displayList(slug) });
  /** The canvas after a command: its state as the node that carried it out has it, with the displays watching it here. */
  const after = async (slug: string) => {
    const owners = await deps.ownerView?.(slug);
    if (!owners) return describe(slug);
    return { ...owners, displays: registry.get(slug)?.channel.displays.size ?? 0, displayList: displayList(slug) };
  };
  const displayList = (slug: string) =>
    [...(registry.get(slug)?.channel.displays ?? [])].map((d) => ({
      id: d.id,
      address: d.remoteAddress,
      userAgent: d.userAgent,
      connectedSince: new Date(d.connectedAt).toISOString(),
      mode: d.mode,
      /** `v2` (Easel's pages), `v1` (older binary clients) or `json` (the seed's). */
      wire: d.wire,
      rendition: d.key,
      framesSent: d.sent,
      framesSkipped: d.skipped,
      clockOffsetMs: d.clockOffsetMs,
      // What the screen last said of its clock and timing (protocol v2 pages); null for others.
      sync:
        d.sync &&
        ({
          rttMs: d.sync.rttMs,
          errorMs: d.sync.errorMs,
          framesShown: d.sync.shown,
          framesLate: d.sync.late,
          reportedAt: new Date(d.sync.at).toISOString(),
        } satisfies ScreenSync),
    }));

  const seen = <T extends { slug: string }>(canvas: T) => deps.view?.(canvas) ?? canvas;
  api.route('get', '/api/canvases', async () => ({
    status: 200,
    json: { canvases: await Promise.all(commands.list().map((c) => seen({ ...c, ...deps.extras(c.slug) }))) },
  }));
  api.route('get', '/api/canvases/:slug', async (req) => ({ status: 200, json: await seen(describe(req.params.slug!)) }));
  api.route(
    'del',
    '/api/canvases/:slug',
    async (req) => {
      await commands.removeCanvas(req.params.slug!, origin(req));
      return { status: 200, json: { removed: req.params.slug! } };
    },
    { mutating: true },
  );

  api.route(
    'post',
    '/api/canvases/:slug/prompt',
    async (req) => {
      const job = await commands.setPrompt(req.params.slug!, parseRequest(promptCommand, jsonBody(req)), origin(req));
      return { status: 202, json: { job }, headers: { location: `/api/jobs/${job.id}` } };
    },
    { mutating: true },
  );

  api.route(
    'post',
    '/api/canvases/:slug/image',
    async (req) => {
      const hold = req.query.get('hold');
      const seconds = hold === null ? 30 : Number(hold);
      if (!(Number.isFinite(seconds) && seconds >= 0 && seconds <= 86_400)) {
        throw new EaselError(
          'EASEL_ERR_REQUEST_INVALID',
          `hold: value ${JSON.stringify(hold)} is not a number of seconds from 0 to 86400`,
          { hint: 'Use ?hold=30, or ?hold=0 to hold until the next command' },
        );
      }
      if (req.body.length === 0)
        throw new EaselError('EASEL_ERR_REQUEST_INVALID', 'body: is empty', {
          hint: 'Send the image file as the body: curl --data-binary @photo.jpg',
        });
      const result = await commands.showStill(req.params.slug!, req.body, seconds === 0 ? Infinity : seconds * 1000, origin(req));
      return { status: 202, json: result };
    },
    { mutating: true, maxBody: deps.maxBodyBytes, accepts: ['image/*', 'application/octet-stream'] },
  );

  api.route(
    'put',
    '/api/canvases/:slug/source',
    async (req) => {
      await commands.setSource(req.params.slug!, parseRequest(sourceCommand, jsonBody(req)), origin(req));
      return { status: 200, json: await after(req.params.slug!) };
    },
    { mutating: true },
  );

  for (const action of ['pause', 'resume', 'next'] as const) {
    api.route(
      'post',
      `/api/canvases/:slug/${action}`,
      async (req) => {
        await commands[action](req.params.slug!, origin(req));
        return { status: 200, json: await after(req.params.slug!) };
      },
      { mutating: true },
    );
  }

  api.route(
    'post',
    '/api/canvases/:slug/playlist',
    async (req) => {
      const { name } = parseRequest(playlistCommand, jsonBody(req));
      await commands.startPlaylist(req.params.slug!, name, origin(req));
      return { status: 200, json: await after(req.params.slug!) };
    },
    { mutating: true },
  );
  api.route(
    'del',
    '/api/canvases/:slug/playlist',
    async (req) => {
      await commands.stopPlaylist(req.params.slug!, origin(req));
      return { status: 200, json: await after(req.params.slug!) };
    },
    { mutating: true },
  );

  api.route(
    'get',
    '/api/canvases/:slug/frame',
    async (req) => {
      const canvas = registry.existing(req.params.slug!);
      const wanted = (req.query.get('format') ?? (req.headers.accept?.includes('image/webp') ? 'webp' : 'jpeg')) as ImageFormat;
      if (!['webp', 'jpeg', 'avif'].includes(wanted))
        throw new EaselError('EASEL_ERR_REQUEST_INVALID', `format: value "${wanted}" is not one of webp, jpeg, avif`, {
          hint: 'Use ?format=jpeg',
        });
      const latest = await canvas.latestImage(wanted);
      if (!latest)
        throw new EaselError('EASEL_ERR_NOT_FOUND', `Canvas "${canvas.slug}" has shown no frame yet`, {
          hint: 'Wait a moment; /readyz says why a canvas has nothing to show',
        });
      return {
        status: 200,
        body: latest.encoded.data,
        contentType: latest.encoded.mime,
        headers: {
          'x-easel-image-id': latest.frame.imageId,
          'x-easel-seq': String(latest.frame.seq),
          'x-easel-timestamp': new Date(latest.frame.presentAt ?? latest.frame.slotTime).toISOString(),
          'x-easel-made-at': latest.frame.madeAt,
        },
      };
    },
    { view: true },
  );

  api.route('get', '/api/jobs/:id', async (req) => ({ status: 200, json: { job: await commands.job(req.params.id!) } }));
  api.route(
    'del',
    '/api/jobs/:id',
    async (req) => ({ status: 200, json: { job: await commands.cancelJob(req.params.id!, origin(req)) } }),
    {
      mutating: true,
    },
  );
  return { canvasState };
}
