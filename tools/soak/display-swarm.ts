/**
 * The soak's displays: real WebSocket clients that connect and disconnect at random within a
 * bounded count, in both wire modes and several screen sizes, and keep score of what a wall
 * would notice — errors, closes the server started, and gaps between frames longer than two
 * frame slots while connected. The interval from connecting to the first frame is not a gap
 * (it is reported on its own); the time from the last frame to our own close is.
 */
import WebSocket from 'ws';
import { decodeFrameMessage, EASEL_SUBPROTOCOL } from '../../protocol/wire.js';
import { between, pick } from '../support/random.js';

export interface SwarmOptions {
  /** ws:// URL of a canvas, with an optional query. */
  url: (slug: string, query: string) => string;
  slugs: readonly string[];
  /** Frame period of every canvas, ms (2 × this is the gap limit). */
  periodMs: number;
  minDisplays: number;
  maxDisplays: number;
  /** Seconds a display stays, drawn uniformly from this range. */
  lifetimeSeconds: [number, number];
  random: () => number;
  /** Seconds since the soak started, for the records. */
  elapsed: () => number;
}

export interface GapRecord {
  /** Seconds since the soak started, when the gap ended. */
  at: number;
  display: number;
  slug: string;
  mode: 'binary' | 'json';
  gapMs: number;
  /** True when no frame came between the last one and our own close. */
  trailing: boolean;
}

interface Probe {
  id: number;
  slug: string;
  mode: 'binary' | 'json';
  socket: WebSocket;
  connectedAt: number;
  closeAt: number;
  opened: boolean;
  closing: boolean;
  frames: number;
  firstFrameAt: number | null;
  lastFrameAt: number | null;
}

export interface SwarmStats {
  connects: number;
  opened: number;
  closedByUs: number;
  terminatedByUs: number;
  frames: number;
  pings: number;
  pongs: number;
  viewportChanges: number;
  refusals: Record<string, number>;
  errors: Record<string, number>;
  /** Closes the server started, by code (none are expected while the server runs). */
  unexpectedCloses: Record<string, number>;
  badMessages: number;
  /** Displays that were open over 2 s and had no frame yet when closed. */
  neverGotFrame: number;
  /** Connect → first frame, ms: the largest, and every one for percentiles. */
  firstFrameMs: number[];
  gaps: GapRecord[];
  maxGapMsOverall: number;
}

const VIEWPORTS = ['', '', 'w=640&h=480', 'w=1920&h=1080&dpr=1', 'w=3840&h=2160', 'w=500&h=900&dpr=2'];

export function createDisplaySwarm(o: SwarmOptions) {
  const live = new Map<number, Probe>();
  let nextId = 1;
  let target = Math.round((o.minDisplays + o.maxDisplays) / 2);
  const gapLimit = 2 * o.periodMs;
  const stats: SwarmStats = {
    connects: 0,
    opened: 0,
    closedByUs: 0,
    terminatedByUs: 0,
    frames: 0,
    pings: 0,
    pongs: 0,
    viewportChanges: 0,
    refusals: {},
    errors: {},
    unexpectedCloses: {},
    badMessages: 0,
    neverGotFrame: 0,
    firstFrameMs: [],
    gaps: [],
    maxGapMsOverall: 0,
  };
  const count = (table: Record<string, number>, key: string) => (table[key] = (table[key] ?? 0) + 1);

  function frameArrived(p: Probe) {
    const now = performance.now();
    stats.frames++;
    p.frames++;
    if (p.firstFrameAt === null) {
      p.firstFrameAt = now;
      stats.firstFrameMs.push(now - p.connectedAt);
    } else if (p.lastFrameAt !== null) {
      const gap = now - p.lastFrameAt;
      stats.maxGapMsOverall = Math.max(stats.maxGapMsOverall, gap);
      if (gap > gapLimit)
        stats.gaps.push({ at: o.elapsed(), display: p.id, slug: p.slug, mode: p.mode, gapMs: Math.round(gap), trailing: false });
    }
    p.lastFrameAt = now;
  }

  function connect() {
    const slug = pick(o.random, o.slugs);
    const mode = o.random() < 0.15 ? 'json' : 'binary';
    const viewport = pick(o.random, VIEWPORTS);
    const query = [viewport].filter(Boolean).join('&');
    // Binary displays speak v2 as Easel's pages do; JSON ones ask for nothing, as the seed's client does.
    const socket = new WebSocket(o.url(slug, query), mode === 'binary' ? [EASEL_SUBPROTOCOL] : [], { perMessageDeflate: false });
    const now = performance.now();
    const p: Probe = {
      id: nextId++,
      slug,
      mode,
      socket,
      connectedAt: now,
      closeAt: now + 1000 * between(o.random, ...o.lifetimeSeconds),
      opened: false,
      closing: false,
      frames: 0,
      firstFrameAt: null,
      lastFrameAt: null,
    };
    live.set(p.id, p);
    stats.connects++;
    socket.on('open', () => {
      p.opened = true;
      p.connectedAt = performance.now();
      stats.opened++;
    });
    socket.on('unexpected-response', (_req, res) => {
      count(stats.refusals, `HTTP ${res.statusCode}`);
      res.resume();
      p.closing = true;
      live.delete(p.id);
      socket.terminate();
    });
    socket.on('error', (err) => {
      if (!p.closing) count(stats.errors, (err as NodeJS.ErrnoException).code ?? err.message.slice(0, 80));
      if (!p.opened) live.delete(p.id);
    });
    socket.on('message', (data: Buffer, isBinary) => {
      try {
        if (p.mode === 'json') {
          const msg = JSON.parse(data.toString('utf8')) as { image?: unknown };
          if (typeof msg.image !== 'string') return void stats.badMessages++;
          frameArrived(p);
        } else if (isBinary) {
          decodeFrameMessage(data);
          frameArrived(p);
        } else {
          const msg = JSON.parse(data.toString('utf8')) as { type?: string };
          if (msg.type === 'pong') stats.pongs++;
          else if (msg.type !== 'hello') stats.badMessages++;
        }
      } catch {
        stats.badMessages++;
      }
    });
    socket.on('close', (code) => {
      live.delete(p.id);
      if (!p.closing && p.opened) count(stats.unexpectedCloses, String(code));
    });
  }

  function close(p: Probe) {
    const now = performance.now();
    if (p.opened && p.lastFrameAt !== null && now - p.lastFrameAt > gapLimit) {
      stats.gaps.push({
        at: o.elapsed(),
        display: p.id,
        slug: p.slug,
        mode: p.mode,
        gapMs: Math.round(now - p.lastFrameAt),
        trailing: true,
      });
    }
    if (p.opened && p.firstFrameAt === null && now - p.connectedAt > 2000) stats.neverGotFrame++;
    p.closing = true;
    // Most leave politely; some vanish as a crashed browser or a pulled cable would.
    if (o.random() < 0.2) {
      stats.terminatedByUs++;
      p.socket.terminate();
    } else {
      stats.closedByUs++;
      p.socket.close(1000, 'soak: display leaves');
    }
  }

  return {
    stats,
    get connected(): number {
      let n = 0;
      for (const p of live.values()) if (p.opened && !p.closing) n++;
      return n;
    },
    /** One step of the schedule: retire old displays, drift the target count, connect or close toward it. */
    tick() {
      const now = performance.now();
      for (const p of live.values()) if (!p.closing && p.opened && now >= p.closeAt) close(p);
      target = Math.max(o.minDisplays, Math.min(o.maxDisplays, target + Math.round(between(o.random, -4, 4))));
      const active = [...live.values()].filter((p) => !p.closing);
      for (let i = active.length; i < target && i < active.length + 8; i++) connect();
      for (let i = active.length; i > target; i--) {
        const open = active.filter((p) => p.opened && !p.closing);
        if (open.length === 0) break;
        close(pick(o.random, open));
      }
      for (const p of active) {
        if (!p.opened || p.closing || p.mode !== 'binary') continue;
        if (o.random() < 0.05) {
          p.socket.send(JSON.stringify({ type: 'ping', t0: Date.now() }));
          stats.pings++;
        } else if (o.random() < 0.01) {
          p.socket.send(JSON.stringify({ type: 'viewport', w: pick(o.random, [480, 800, 1280, 1920]), h: 1080, dpr: 1 }));
          stats.viewportChanges++;
        }
      }
    },
    /** Closes every display (counting trailing gaps) and waits for the closes, at most `ms`. */
    async closeAll(ms = 3000): Promise<void> {
      for (const p of live.values()) if (!p.closing) close(p);
      const deadline = performance.now() + ms;
      while (live.size > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      for (const p of live.values()) p.socket.terminate();
    },
  };
}

export type DisplaySwarm = ReturnType<typeof createDisplaySwarm>;
