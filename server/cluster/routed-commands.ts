import { parseArchiveId } from '../archive/archive-ids.js';
import type { CommandOrigin, JobSnapshot } from '../control/command-types.js';
import type { Commands } from '../control/playlist-commands.js';
import { EaselError, isEaselError } from '../errors.js';
import { checkBytes } from '../stream/image-limits.js';
import type { CommandRouter, RemoteRequest } from './command-router.js';
import type { ClusterJobs } from './cluster-jobs.js';

/**
 * The canvas commands in cluster mode: a command on a declared canvas this node does not
 * produce is carried out by the node that does (command-router.ts); anything else (a canvas
 * made by a display here, a slug that is no canvas at all) is this node's, exactly as alone.
 * Every control surface (HTTP, OSC, the CLI through HTTP, playlists) goes through these.
 */

/** The commands a playlist drives canvases with are the least any caller routes. */
export type RoutableCommands = Pick<Commands, 'setPrompt' | 'setSource' | 'pause' | 'resume'> & Partial<Commands>;

export interface RoutedCommandsOptions {
  router: CommandRouter;
  /** Declared canvases: each is produced by the node holding its lease. */
  shared: (slug: string) => boolean;
  /** The image limits of render.*: an image over them is refused before it crosses Redis. */
  imageLimits: { maxFileBytes: number; limitInputPixels: number };
  jobs: ClusterJobs;
  nodeId: string;
}

export function routeCommands<T extends RoutableCommands>(inner: T, options: RoutedCommandsOptions): T {
  const { router, shared, jobs } = options;
  const on = <R>(slug: string, op: RemoteRequest['op'], args: unknown[], local: () => R | Promise<R>, blob?: Buffer) =>
    shared(slug) ? router.onCanvas(slug, op, args, local, blob) : local();
  const routed: RoutableCommands = {
    ...inner,
    setPrompt: (slug, command, origin) => on(slug, 'setPrompt', [command, origin], () => inner.setPrompt(slug, command, origin)),
    setSource: (slug, source, origin) => on(slug, 'setSource', [source, origin], () => inner.setSource(slug, source, origin)),
    pause: (slug, origin) => on(slug, 'pause', [origin], () => inner.pause(slug, origin)),
    resume: (slug, origin) => on(slug, 'resume', [origin], () => inner.resume(slug, origin)),
  };
  const { next, showStill, startPlaylist, stopPlaylist, cancelJob, job } = inner;
  if (next) routed.next = (slug, origin) => on(slug, 'next', [origin], () => next(slug, origin));
  if (startPlaylist)
    routed.startPlaylist = async (slug, name, origin) => {
      await on(slug, 'startPlaylist', [name, origin], () => startPlaylist(slug, name, origin));
    };
  if (stopPlaylist) routed.stopPlaylist = (slug, origin) => on(slug, 'stopPlaylist', [origin], () => stopPlaylist(slug, origin));
  if (showStill)
    routed.showStill = (slug, image, holdMs, origin) => {
      if (!shared(slug)) return showStill(slug, image, holdMs, origin);
      // The owner checks it again; this only keeps a file over the limit out of Redis, with the same answer.
      checkBytes(image.length, options.imageLimits, 'The image');
      const hold = holdMs === Infinity ? null : holdMs;
      return router.onCanvas(slug, 'showStill', [hold, origin], () => showStill(slug, image, holdMs, origin), image);
    };
  // Jobs live on the node that made them; their snapshots are in Redis for every other node.
  if (job)
    routed.job = async (id) => {
      try {
        return await job(id);
      } catch (err) {
        const found = isEaselError(err, 'EASEL_ERR_NOT_FOUND') ? await jobs.find(id) : undefined;
        if (!found) throw err;
        return found.job;
      }
    };
  if (cancelJob)
    routed.cancelJob = async (id, origin) => {
      try {
        return await cancelJob(id, origin);
      } catch (err) {
        const found = isEaselError(err, 'EASEL_ERR_NOT_FOUND') ? await jobs.find(id) : undefined;
        if (!found || found.node === options.nodeId) throw err;
        const answer = await router.onNode<JobSnapshot>(found.node, 'cancelJob', [id, origin]);
        if (answer !== 'absent') return answer;
        if (['done', 'cancelled', 'failed'].includes(found.job.state)) return found.job;
        throw new EaselError('EASEL_ERR_NOT_FOUND', `Job "${id}" ran on node "${found.node}", which has left the cluster`, {
          hint: 'Its canvas is produced by another node now; send the prompt again there if it is still wanted',
          details: { node: found.node },
        });
      }
    };
  return routed as T;
}

const VIAS = new Set<CommandOrigin['via']>(['http', 'osc', 'playlist', 'cli', 'config']);

/** The origin another node sent, as far as it reads as one: it names where the command came from in the log and the events. */
function originOf(raw: unknown): CommandOrigin {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const via = VIAS.has(o.via as CommandOrigin['via']) ? (o.via as CommandOrigin['via']) : 'http';
  const step = Number.isSafeInteger(o.step) && (o.step as number) > 0 ? { step: o.step as number } : {};
  const archived = typeof o.archiveId === 'string' && parseArchiveId(o.archiveId) ? { archiveId: o.archiveId } : {};
  return { via, ...(typeof o.who === 'string' ? { who: o.who.slice(0, 200) } : {}), ...step, ...archived };
}

const bad = (what: string) =>
  new EaselError('EASEL_ERR_REQUEST_INVALID', `${what}: not understood in a command from another node`, {
    hint: 'The nodes of a cluster should run the same Easel version',
  });

/**
 * The owner's side: carries out another node's request with this node's own commands (which
 * check every field as they do for a local caller). `describe` is the canvas as the API shows it.
 */
export function remoteHandler(commands: Commands, describe: (slug: string) => unknown) {
  return async ({ op, slug, args, blob }: RemoteRequest): Promise<unknown> => {
    const origin = originOf(args.at(-1));
    if (op === 'cancelJob') {
      if (typeof args[0] !== 'string') throw bad('job id');
      return commands.cancelJob(args[0], origin);
    }
    if (slug === undefined) throw bad('slug');
    switch (op) {
      case 'describe':
        return describe(slug);
      case 'setPrompt':
        return commands.setPrompt(slug, args[0] as Parameters<Commands['setPrompt']>[1], origin);
      case 'setSource':
        return commands.setSource(slug, args[0] as Parameters<Commands['setSource']>[1], origin);
      case 'showStill': {
        const hold = args[0] === null ? Infinity : args[0];
        if (!blob || typeof hold !== 'number' || !(hold >= 0)) throw bad('image or hold');
        return commands.showStill(slug, blob, hold, origin);
      }
      case 'startPlaylist':
        if (typeof args[0] !== 'string') throw bad('playlist name');
        return commands.startPlaylist(slug, args[0], origin);
      case 'pause':
      case 'resume':
      case 'next':
      case 'stopPlaylist':
        return commands[op](slug, origin);
    }
  };
}
