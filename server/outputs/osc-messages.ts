/**
 * What Easel says over OSC, as pure data: event in, messages out, with every argument typed, so
 * TouchDesigner, Max and QLab read the same thing whatever JavaScript thinks a number is (a seq
 * of 4 is an int, a progress of 1 is still a float).
 *
 * No address here is one the OSC listener obeys (osc-routes.ts): a target pointed back at an
 * Easel, or a tool that echoes what it hears, cannot start a loop of commands.
 */
import type { Frame } from '../canvas/frame.js';
import type { EaselEvent } from '../control/events.js';

export type OscArg = { type: 'integer'; value: number } | { type: 'float'; value: number } | { type: 'string'; value: string };

export interface OscOutMessage {
  address: string;
  args: OscArg[];
}

const int = (value: number): OscArg => ({ type: 'integer', value: Math.trunc(value) | 0 });
const float = (value: number): OscArg => ({ type: 'float', value });
/** OSC strings end at the first NUL; a long prompt is cut so one message stays one datagram. */
const str = (value: string | undefined): OscArg => ({ type: 'string', value: (value ?? '').replaceAll('\0', '').slice(0, 2000) });

const at = (slug: string, what: string) => `/easel/${slug}/${what}`;

/** `/easel/<slug>/frame` seq, imageId, prompt ("" when none), source. */
export function frameMessage(slug: string, frame: Pick<Frame, 'seq' | 'imageId' | 'prompt' | 'source'>): OscOutMessage {
  return { address: at(slug, 'frame'), args: [int(frame.seq), str(frame.imageId), str(frame.prompt), str(frame.source)] };
}

/** What was last said per canvas, so `paused` and `source` are sent when they change, not on every state. */
export interface OscMemory {
  paused: Set<string>;
  source: Map<string, string>;
}

export const createOscMemory = (): OscMemory => ({ paused: new Set(), source: new Map() });

/**
 * The messages for one bus event; none for events OSC leaves out (commands other than a prompt,
 * playlist file changes). Pause and resume come as the canvas's state and `paused` 1 / 0.
 * Without `memory` every state carries `paused` and every source change its kind.
 */
export function eventMessages(event: EaselEvent, memory?: OscMemory): OscOutMessage[] {
  switch (event.type) {
    case 'canvas': {
      const out: OscOutMessage[] = [];
      if (event.state) {
        out.push({ address: at(event.slug, 'state'), args: [str(event.state)] });
        const paused = event.state === 'paused';
        if (memory?.paused.has(event.slug) !== paused) {
          out.push({ address: at(event.slug, 'paused'), args: [int(paused ? 1 : 0)] });
          if (paused) memory?.paused.add(event.slug);
          else memory?.paused.delete(event.slug);
        }
      }
      // The registry and the command both tell of a source change: one message per change of kind.
      if (event.source && memory?.source.get(event.slug) !== event.source) {
        out.push({ address: at(event.slug, 'source'), args: [str(event.source)] });
        memory?.source.set(event.slug, event.source);
      }
      if (event.removed) {
        out.push({ address: at(event.slug, 'state'), args: [str('removed')] });
        memory?.paused.delete(event.slug);
        memory?.source.delete(event.slug);
      }
      return out;
    }
    case 'command':
      if (event.command !== 'prompt') return [];
      return [
        {
          address: at(event.slug, 'prompt/changed'),
          args: [str(String(event.detail?.prompt ?? '')), str(String(event.detail?.job ?? '')), str(event.origin.via)],
        },
      ];
    case 'job': {
      const { job } = event;
      const progress = job.count > 0 ? Math.min(1, job.produced / job.count) : 0;
      return [
        {
          address: at(job.slug, 'job'),
          args: [str(job.id), str(job.state), int(job.produced), int(job.count), float(progress), str(job.prompt)],
        },
      ];
    }
    case 'playlist':
      return playlistMessages(event);
    case 'display':
      return [{ address: at(event.slug, 'displays'), args: [int(event.displays)] }];
    case 'source':
      return [
        {
          address: at(event.slug, 'trouble'),
          args: [int(event.health === 'down' ? 1 : 0), str(event.state), str(event.code), str(event.reason)],
        },
      ];
  }
}

function playlistMessages(event: Extract<EaselEvent, { type: 'playlist' }>): OscOutMessage[] {
  const d = event.detail ?? {};
  const slugs = Array.isArray(d.slugs) ? (d.slugs as string[]) : event.slug ? [event.slug] : [];
  const n = (v: unknown) => (typeof v === 'number' ? v : 0);
  switch (event.event) {
    case 'step-started':
      return slugs.map((slug) => ({
        address: at(slug, 'playlist/step'),
        args: [str(event.name), int(n(d.stepIndex)), int(n(d.stepCount)), str(String(d.step ?? '')), int(n(d.loopCount))],
      }));
    case 'started':
    case 'ended':
    case 'stopped':
      return slugs.map((slug) => ({ address: at(slug, 'playlist/state'), args: [str(event.event), str(event.name)] }));
    case 'error':
      return event.slug ? [{ address: at(event.slug, 'playlist/state'), args: [str('error'), str(event.name)] }] : [];
    default:
      return [];
  }
}
