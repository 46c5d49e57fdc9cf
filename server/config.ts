import convict from 'convict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ZodType } from 'zod';
import { isLoopbackHost } from './api/auth.js';
import { parseSlug } from './canvas/slug.js';
import { checkFlags, schemaOptions } from './cli-flags.js';
import { EaselError } from './errors.js';
import { fields, type ORDERS } from './input/fields.js';
import { problemsOf } from './input/problems.js';
import {
  canvasDeclaration,
  sourceDeclaration,
  SOURCE_TYPES,
  tilesDeclaration,
  type CanvasDeclaration,
  type SourceConfig,
} from './input/shapes.js';
import type { Fit, ImageFormat } from './stream/rendition.js';
import type { TileGrid } from './stream/tile.js';
import { checkOscTargets, checkWebhooks, toOscTargetList, toWebhookList, type WebhookConfig } from './outputs/output-config.js';

/** The project root, whether running from server/ (tsx) or dist/server/ (built). */
export const PROJECT_ROOT = (() => {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'package.json')) && path.dirname(dir) !== dir) dir = path.dirname(dir);
  return dir;
})();

export type { CanvasDeclaration, FolderSourceConfig, InferenceSourceConfig, SourceConfig } from './input/shapes.js';

export interface CanvasConfig {
  slug: string;
  source: SourceConfig;
  fps: number;
  width: number;
  height: number;
  fit: Fit;
  formats: ImageFormat[];
  /** Whether frames carry a presentation instant, so every screen of the canvas changes together. */
  sync: boolean;
  /** presentAt = slot time + this, ms. */
  leadMs: number;
  /** A tiled wall: displays join as tiles (`?tile=column,row`) and each gets its crop. */
  tiles?: TileGrid;
  /** false: its frames are neither archived nor logged as played (docs/archive.md); absent: they are. */
  archive?: boolean;
}

function rangeFormat(name: string, min: number, max: number, integer: boolean): convict.Format {
  return {
    name,
    coerce: (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v),
    validate(v: unknown) {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (integer && !Number.isInteger(v))) {
        throw new Error(`must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}`);
      }
    },
  };
}

const toNumber = (v: unknown) => (typeof v === 'string' && v.trim() !== '' ? Number(v) : v);
const toList = (v: unknown) =>
  typeof v === 'string'
    ? v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : v;

/** A convict format that follows a field rule of input/fields.ts, so defaults and canvases agree. */
function ruleFormat(name: string, schema: ZodType, coerce?: (v: unknown) => unknown): convict.Format {
  return {
    name,
    ...(coerce && { coerce }),
    validate(v: unknown) {
      const result = schema.safeParse(v);
      if (result.success) return;
      const problem = problemsOf(result.error, v)[0]!;
      throw new Error(problem.expected ? `must be ${problem.expected}` : problem.message);
    },
  };
}

convict.addFormats({
  fps: ruleFormat('fps', fields.fps, toNumber),
  'canvas-size': ruleFormat('canvas-size', fields.width, toNumber),
  fit: ruleFormat('fit', fields.fit),
  order: ruleFormat('order', fields.order),
  prompt: ruleFormat('prompt', fields.prompt),
  'negative-prompt': ruleFormat('negative-prompt', fields.negativePrompt),
  'folder-path': ruleFormat('folder-path', fields.path),
  'inference-steps': ruleFormat('inference-steps', fields.steps, toNumber),
  drift: ruleFormat('drift', fields.drift, toNumber),
  quality: rangeFormat('quality', 1, 100, true),
  'webp-effort': rangeFormat('webp-effort', 0, 6, true),
  'avif-effort': rangeFormat('avif-effort', 0, 9, true),
  'positive-int': rangeFormat('positive-int', 1, Number.MAX_SAFE_INTEGER, true),
  'non-negative-int': rangeFormat('non-negative-int', 0, Number.MAX_SAFE_INTEGER, true),
  'image-formats': ruleFormat('image-formats', fields.formats, toList),
  sync: ruleFormat('sync', fields.sync, (v) => (v === 'true' ? true : v === 'false' ? false : v)),
  'lead-ms': ruleFormat('lead-ms', fields.leadMs, toNumber),
  'lease-ms': rangeFormat('lease-ms', 1000, 60_000, true),
  'redis-url': {
    name: 'redis-url',
    validate(v: unknown) {
      if (v === '') return;
      if (typeof v !== 'string' || !isRedisUrl(v)) {
        throw new Error('must be "" (run alone) or a Redis address like redis://host:6379/0 or rediss://user:password@host:6380');
      }
    },
  },
  'node-id': {
    name: 'node-id',
    validate(v: unknown) {
      if (typeof v !== 'string' || !/^([A-Za-z0-9._-]{1,64})?$/.test(v)) {
        throw new Error('must be "" (host name + random suffix) or 1 to 64 letters, digits, ".", "_" or "-", e.g. easel-a');
      }
    },
  },
  'advertise-address': {
    name: 'advertise-address',
    validate(v: unknown) {
      if (v === '') return;
      if (typeof v !== 'string' || !/^([A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\]):\d{1,5}$/.test(v)) {
        throw new Error('must be "" (host:port this node listens on) or host:port others reach this node at, e.g. 10.0.0.5:8000');
      }
    },
  },
  endpoints: {
    name: 'endpoints',
    coerce: toList,
    validate(v: unknown) {
      if (!Array.isArray(v)) throw new Error('must be a list of host:port');
      const bad = v.find((e) => typeof e !== 'string' || !/^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(e));
      if (bad !== undefined) throw new Error(`endpoint ${JSON.stringify(bad)} is not host:port (e.g. 127.0.0.1:50051)`);
    },
  },
  'host-list': {
    name: 'host-list',
    coerce: toList,
    validate(v: unknown) {
      if (!Array.isArray(v)) throw new Error('must be a list of host names, e.g. ["easel.venue.lan", "*.venue.lan"]');
      const bad = v.find((h) => typeof h !== 'string' || !/^(\*|(\*\.)?[A-Za-z0-9_.-]+|\[?[0-9A-Fa-f:.]+\]?)$/.test(h));
      if (bad !== undefined) throw new Error(`${JSON.stringify(bad)} is not a host name: use a name, an address, "*.domain" or "*" (any)`);
    },
  },
  'osc-targets': { name: 'osc-targets', coerce: toOscTargetList, validate: checkOscTargets },
  webhooks: { name: 'webhooks', coerce: toWebhookList, validate: checkWebhooks },
  'canvas-list': {
    name: 'canvas-list',
    // A throw here escapes convict's validation as a bare stack trace: text that is not JSON
    // stays text, and validate names the key.
    coerce: (v: unknown) => {
      if (typeof v !== 'string') return v;
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    },
    validate: validateCanvasList,
  },
});

/** A URL ioredis can connect to: redis:// or rediss:// (TLS) with a host, and a database number if any. */
export function isRedisUrl(text: string): boolean {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return false;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') return false;
  if (url.hostname === '') return false;
  return url.pathname === '' || url.pathname === '/' || /^\/\d{1,2}$/.test(url.pathname);
}

/**
 * Hostname alone is not unique enough: two nodes in containers often share one, and a node that
 * restarts must not be taken for its former self still holding leases. The suffix makes each
 * start a new node; set cluster.nodeId to keep one name across restarts.
 */
let processNodeId: string | undefined;

export function defaultNodeId(host = hostname()): string {
  const base = host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 48) || 'easel';
  return `${base}-${randomBytes(4).toString('hex')}`;
}

/** Checks each declared canvas and names the first bad field as `canvases[i].field`. */
function validateCanvasList(list: unknown): void {
  if (typeof list === 'string') {
    throw new Error(`is not JSON: EASEL_CANVASES takes a list like [{"slug": "lobby"}]`);
  }
  if (!Array.isArray(list)) throw new Error('must be a list of canvases like [{"slug": "lobby"}]');
  const seen = new Set<string>();
  list.forEach((c: unknown, i) => {
    const at = `canvases[${i}]`;
    if (typeof c !== 'object' || c === null) throw new Error(`${at} must be an object with at least a "slug"`);
    const d = c as Record<string, unknown>;
    const slug = parseSlug(typeof d.slug === 'string' ? d.slug : '');
    if (!slug.ok) throw new Error(`${at}.slug: ${slug.reason}`);
    if (seen.has(slug.slug)) throw new Error(`${at}.slug: "${slug.slug}" is declared twice`);
    seen.add(slug.slug);
    const parsed = canvasDeclaration.safeParse(c);
    if (parsed.success) return;
    const problems = problemsOf(parsed.error, c);
    // A misspelt key explains the problems after it: name it first.
    const unknown = problems.find((p) => p.message === 'unknown setting');
    if (unknown) {
      const nested = { source: sourceDeclaration.shape, tiles: tilesDeclaration.shape } as Record<PropertyKey, object>;
      const allowed = Object.keys((unknown.path.length > 1 && nested[unknown.path[0]!]) || canvasDeclaration.shape);
      throw new Error(`${at}.${unknown.field}: unknown setting; allowed are ${allowed.join(', ')}`);
    }
    throw new Error(`${at}.${problems[0]!.field}: ${problems[0]!.message}`);
  });
}

export const schema = {
  env: { doc: 'Which config/<env>.json to load', format: ['production', 'development', 'test'], default: 'development', env: 'NODE_ENV' },
  config: {
    doc: 'A JSON config file to load instead of config/<env>.json',
    format: String,
    default: '',
    env: 'EASEL_CONFIG',
    arg: 'config',
  },
  host: {
    doc: 'Address to listen on; 0.0.0.0 so displays on other machines can connect',
    format: String,
    default: '0.0.0.0',
    env: 'EASEL_HOST',
    arg: 'host',
  },
  port: { doc: 'HTTP and WebSocket port; 0 picks a free one', format: 'port', default: 8000, env: 'EASEL_PORT', arg: 'port' },
  http: {
    allowedHosts: {
      doc: 'Host names the API answers to besides loopback, this machine\'s names and IP addresses (DNS rebinding protection); "*.domain" for a domain, "*" for any',
      format: 'host-list',
      default: [] as string[],
      env: 'EASEL_ALLOWED_HOSTS',
    },
  },
  log: {
    level: {
      doc: 'Log level',
      format: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      default: 'info',
      env: 'EASEL_LOG_LEVEL',
      arg: 'log-level',
    },
    pretty: {
      doc: 'Readable logs instead of JSON: auto means when run from a terminal',
      format: ['auto', 'true', 'false'],
      default: 'auto' as 'auto' | 'true' | 'false',
      env: 'EASEL_LOG_PRETTY',
      arg: 'log-pretty',
    },
  },
  canvasDefaults: {
    source: {
      type: {
        doc: 'Source of canvases that do not name one: folder, inference, or auto (inference when inference.endpoints is set)',
        format: ['auto', ...SOURCE_TYPES],
        default: 'auto' as 'auto' | SourceConfig['type'],
        env: 'EASEL_SOURCE',
      },
      prompt: {
        doc: 'Prompt of inference canvases that do not name one',
        format: 'prompt',
        default: 'a slow drifting watercolour landscape at dusk, soft light, gallery print',
        env: 'EASEL_PROMPT',
        arg: 'prompt',
      },
      negativePrompt: {
        doc: 'Negative prompt of inference canvases',
        format: 'negative-prompt',
        default: '',
        env: 'EASEL_NEGATIVE_PROMPT',
      },
      steps: {
        doc: 'Inference steps, 0 = the service default (SDXL-Turbo: 1-4)',
        format: 'inference-steps',
        default: 0,
        env: 'EASEL_STEPS',
      },
      drift: {
        doc: 'img2img drift strength for inference canvases: each image starts from the previous one (0 = off)',
        format: 'drift',
        default: 0,
        env: 'EASEL_DRIFT',
      },
      fallback: {
        doc: 'Folder an inference canvas shows while the service is down ("" = hold the last frames)',
        format: String,
        default: path.join(PROJECT_ROOT, 'assets'),
        env: 'EASEL_FALLBACK_FOLDER',
      },
      path: {
        doc: 'Image folder of canvases that do not name one (relative to the working directory)',
        format: 'folder-path',
        default: path.join(PROJECT_ROOT, 'assets'),
        env: 'EASEL_FOLDER',
        arg: 'folder',
      },
      order: {
        doc: 'Folder order: name, or shuffle (a new order every loop)',
        format: 'order',
        default: 'name' as (typeof ORDERS)[number],
        env: 'EASEL_FOLDER_ORDER',
      },
    },
    fps: { doc: 'Frames per second, 0.1 to 30', format: 'fps', default: 4, env: 'EASEL_FPS', arg: 'fps' },
    width: { doc: 'Canvas width in pixels: the largest rendition', format: 'canvas-size', default: 1024, env: 'EASEL_WIDTH' },
    height: { doc: 'Canvas height in pixels: the largest rendition', format: 'canvas-size', default: 1024, env: 'EASEL_HEIGHT' },
    fit: {
      doc: 'How images fit the canvas box: inside (whole image, no padding), contain, cover or fill',
      format: 'fit',
      default: 'inside' as Fit,
      env: 'EASEL_FIT',
    },
    formats: {
      doc: 'Encodings offered to displays, first = default for binary mode (webp, jpeg, avif)',
      format: 'image-formats',
      default: ['webp', 'jpeg'] as ImageFormat[],
      env: 'EASEL_FORMATS',
    },
    sync: {
      doc: 'Screens of a canvas show each frame at the same instant (false: each shows it on arrival, for one screen that wants the lowest delay)',
      format: 'sync',
      default: true,
      env: 'EASEL_SYNC',
    },
    leadMs: {
      doc: 'How far ahead of its screen time a frame is sent, ms: room for fan-out, the network and decoding',
      format: 'lead-ms',
      default: 300,
      env: 'EASEL_LEAD_MS',
    },
  },
  canvases: {
    doc: 'Canvases started with the server; others are created on first connection with canvasDefaults',
    format: 'canvas-list',
    default: [{ slug: 'left-canva' }, { slug: 'right-canva', source: { order: 'shuffle' } }] as CanvasDeclaration[],
    env: 'EASEL_CANVASES',
  },
  inference: {
    endpoints: {
      doc: 'Inference services (host:port, comma-separated); calls are spread over those that are up',
      format: 'endpoints',
      default: [] as string[],
      env: 'EASEL_INFERENCE_ENDPOINTS',
      arg: 'inference',
    },
    width: {
      doc: 'Width of generated images (SDXL-Turbo is trained at 512)',
      format: 'canvas-size',
      default: 512,
      env: 'EASEL_INFERENCE_WIDTH',
    },
    height: { doc: 'Height of generated images', format: 'canvas-size', default: 512, env: 'EASEL_INFERENCE_HEIGHT' },
    maxBatch: { doc: 'Most images asked for in one call', format: 'positive-int', default: 4, env: 'EASEL_INFERENCE_MAX_BATCH' },
    bufferSeconds: {
      doc: 'Generated frames kept ready per canvas, in seconds at its fps',
      format: 'positive-int',
      default: 3,
      env: 'EASEL_INFERENCE_BUFFER_SECONDS',
    },
    deadlineMs: { doc: 'Deadline of one generate call (ms)', format: 'positive-int', default: 60_000, env: 'EASEL_INFERENCE_DEADLINE_MS' },
    stallMs: {
      doc: 'A call that brings no image for this long while the buffer is empty is cancelled and retried, and the canvas shows its fallback (ms; 0 = bufferSeconds)',
      format: 'non-negative-int',
      default: 0,
      env: 'EASEL_INFERENCE_STALL_MS',
    },
  },
  limits: {
    maxDisplaysPerCanvas: {
      doc: 'Displays one canvas takes; more get HTTP 503 before the upgrade',
      format: 'positive-int',
      default: 2000,
      env: 'EASEL_MAX_DISPLAYS_PER_CANVAS',
    },
    maxCanvases: {
      doc: 'Canvases the server runs; a display asking for one more gets HTTP 503',
      format: 'positive-int',
      default: 64,
      env: 'EASEL_MAX_CANVASES',
    },
    createdCanvasIdleSeconds: {
      doc: 'A canvas a display created (not declared) is removed this long after its last display leaves',
      format: 'non-negative-int',
      default: 300,
      env: 'EASEL_CREATED_CANVAS_IDLE_SECONDS',
    },
    maxConnections: {
      doc: 'Display connections overall; more get HTTP 503 before the upgrade',
      format: 'positive-int',
      default: 10_000,
      env: 'EASEL_MAX_CONNECTIONS',
    },
    connectionsPerSecond: {
      doc: 'New display connections per second from one address; more get HTTP 429',
      format: 'positive-int',
      default: 20,
      env: 'EASEL_CONNECTIONS_PER_SECOND',
    },
    connectionBurst: {
      doc: 'New display connections from one address at once before the per-second rate applies',
      format: 'positive-int',
      default: 100,
      env: 'EASEL_CONNECTION_BURST',
    },
    rateLimitLoopback: {
      doc: 'Apply the per-address connection rate to this machine too (load tests connect from loopback)',
      format: Boolean,
      default: false,
      env: 'EASEL_RATE_LIMIT_LOOPBACK',
    },
    maxEventStreams: {
      doc: 'Event streams (/api/events, the console feed) open at once; more get HTTP 503',
      format: 'positive-int',
      default: 256,
      env: 'EASEL_MAX_EVENT_STREAMS',
    },
    eventStreamsPerAddress: {
      doc: 'Event streams open at once from one address; more get HTTP 429',
      format: 'positive-int',
      default: 16,
      env: 'EASEL_EVENT_STREAMS_PER_ADDRESS',
    },
    fdHeadroom: {
      doc: 'File descriptors kept free for the canvases: within this many of the open-files limit, new connections get HTTP 503 (health and metrics still answer)',
      format: 'non-negative-int',
      default: 256,
      env: 'EASEL_FD_HEADROOM',
    },
  },
  operator: {
    token: {
      doc: 'Bearer token for mutating API routes; empty on a non-loopback host means one is made at start and printed once',
      format: String,
      default: '',
      env: 'EASEL_OPERATOR_TOKEN',
      sensitive: true,
    },
    openReads: {
      doc: 'Show client addresses and server paths in reading routes to anyone, not only to holders of the operator token',
      format: Boolean,
      default: false,
      env: 'EASEL_OPEN_READS',
    },
    maxBodyBytes: {
      doc: 'Largest request body (image uploads), bytes',
      format: 'positive-int',
      default: 16 * 1024 * 1024,
      env: 'EASEL_MAX_BODY_BYTES',
    },
    rateLimit: {
      perMinute: {
        doc: 'Mutating requests allowed per client address and per token each minute',
        format: 'positive-int',
        default: 120,
        env: 'EASEL_RATE_LIMIT_PER_MINUTE',
      },
      burst: {
        doc: 'Mutating requests allowed at once before the per-minute rate applies',
        format: 'positive-int',
        default: 20,
        env: 'EASEL_RATE_LIMIT_BURST',
      },
    },
  },
  osc: {
    enabled: { doc: 'Listen for OSC commands over UDP', format: Boolean, default: false, env: 'EASEL_OSC_ENABLED', arg: 'osc' },
    host: { doc: 'Address the OSC listener binds', format: String, default: '0.0.0.0', env: 'EASEL_OSC_HOST' },
    port: { doc: 'UDP port of the OSC listener', format: 'port', default: 9000, env: 'EASEL_OSC_PORT' },
    targets: {
      doc: 'Where Easel sends OSC about its canvases (frames, prompts, states, jobs, playlist steps, source trouble): host:port list, e.g. 10.0.0.20:7000 (README, OSC out); [] = send nothing',
      format: 'osc-targets',
      default: [] as string[],
      env: 'EASEL_OSC_TARGETS',
    },
  },
  webhooks: {
    doc: 'JSON POSTs on events: list of {url, events, secret} (README, Webhooks); [] = none',
    format: 'webhooks',
    default: [] as WebhookConfig[],
    env: 'EASEL_WEBHOOKS',
    sensitive: true,
  },
  playlists: {
    dir: {
      doc: 'Folder of playlist files (*.yaml), watched for changes',
      format: String,
      default: path.join(PROJECT_ROOT, 'config', 'playlists'),
      env: 'EASEL_PLAYLISTS_DIR',
    },
  },
  state: {
    file: {
      doc: 'File keeping what operators change at run time (sources, prompts, pauses, held stills, playlists) across restarts; stills go to stills/ beside it; "" = forget on restart',
      format: String,
      default: path.join('state', 'easel-state.json'),
      env: 'EASEL_STATE_FILE',
      arg: 'state-file',
    },
  },
  archive: {
    dir: {
      doc: 'Folder keeping every generated frame and upload, with its metadata, and the proof-of-play log (docs/archive.md); relative to the working directory; "" = no archive, no play log',
      format: String,
      default: 'archive',
      env: 'EASEL_ARCHIVE_DIR',
    },
    maxMb: {
      doc: 'Total size of archived images, MB; past it the oldest unstarred entries are removed',
      format: 'positive-int',
      default: 4096,
      env: 'EASEL_ARCHIVE_MAX_MB',
    },
    maxAgeDays: {
      doc: 'Unstarred archive entries older than this many days are removed (0 = keep for ever)',
      format: 'non-negative-int',
      default: 30,
      env: 'EASEL_ARCHIVE_MAX_AGE_DAYS',
    },
    minFreeMb: {
      doc: 'Archiving pauses, with one warning, while its disk has less free space than this, MB (0 = no floor)',
      format: 'non-negative-int',
      default: 1024,
      env: 'EASEL_ARCHIVE_MIN_FREE_MB',
    },
    playLogDays: {
      doc: 'Days of proof-of-play logs (archive.dir/plays/<day>.jsonl) kept',
      format: 'positive-int',
      default: 90,
      env: 'EASEL_ARCHIVE_PLAY_LOG_DAYS',
    },
    thumbCacheMb: {
      doc: 'Size of the cache of archive thumbnails (archive.dir/.thumbs), MB',
      format: 'positive-int',
      default: 256,
      env: 'EASEL_ARCHIVE_THUMB_CACHE_MB',
    },
  },
  createCanvasesOnConnect: {
    doc: 'Create a canvas with the defaults when a display asks for an unknown slug (a server alone; in a cluster displays join declared canvases only)',
    format: Boolean,
    default: true,
    env: 'EASEL_CREATE_CANVASES_ON_CONNECT',
  },
  displays: {
    token: {
      doc: 'When set, displays must connect with ?token=<this> (pages pass on the ?token= of their own address)',
      format: String,
      default: '',
      env: 'EASEL_DISPLAY_TOKEN',
      sensitive: true,
    },
    stallTimeoutMs: {
      doc: 'Close a display that could take no frame for this long (ms)',
      format: 'positive-int',
      default: 20_000,
      env: 'EASEL_DISPLAY_STALL_TIMEOUT_MS',
    },
    stallSlots: {
      doc: 'Close a display that could take none of this many frames in a row (20 = 5 s at 4 FPS; raise it for fast canvases on slow links)',
      format: 'positive-int',
      default: 20,
      env: 'EASEL_DISPLAY_STALL_SLOTS',
    },
    fanOut: {
      doc: 'How a frame reaches the displays of a canvas: send (one send per display, no copy) or topics (one uWS publish per rendition; measured slower here, see bench/results/fanout-topics.md)',
      format: ['send', 'topics'],
      default: 'send' as 'send' | 'topics',
      env: 'EASEL_DISPLAY_FAN_OUT',
    },
    maxBackpressureBytes: {
      doc: 'Most bytes queued for one display before uWS drops a send; keep above one 4K frame',
      format: 'positive-int',
      default: 8 * 1024 * 1024,
      env: 'EASEL_DISPLAY_MAX_BACKPRESSURE_BYTES',
    },
    idleTimeoutSeconds: {
      doc: 'Close a display silent for this long; pings are sent automatically before that (0 = never)',
      format: 'non-negative-int',
      default: 60,
      env: 'EASEL_DISPLAY_IDLE_TIMEOUT_SECONDS',
    },
  },
  cluster: {
    redisUrl: {
      doc: 'Redis (7 or Valkey) shared by the nodes of a cluster, e.g. redis://10.0.0.2:6379/0; "" = run alone, as one server (README, Cluster)',
      format: 'redis-url',
      default: '',
      env: 'EASEL_REDIS_URL',
      arg: 'redis',
      sensitive: true,
    },
    nodeId: {
      doc: 'Name of this node in the cluster; "" = host name + random suffix, new at every start, so a restarted node is never taken for its old self still holding leases',
      format: 'node-id',
      default: '',
      env: 'EASEL_NODE_ID',
    },
    advertiseAddress: {
      doc: 'host:port other nodes and the load balancer reach this node at; "" = host:port from the listen settings',
      format: 'advertise-address',
      default: '',
      env: 'EASEL_ADVERTISE_ADDRESS',
    },
    leaseMs: {
      doc: 'How long a canvas lease lasts without renewal, ms (renewed every third of it); a dead owner is replaced as its lease runs out (3000: the first new frame came at most 3.3 s after a kill), short enough for a wall to notice little, long enough that a GC pause or busy Redis does not pass a canvas around',
      format: 'lease-ms',
      default: 3000,
      env: 'EASEL_LEASE_MS',
    },
  },
  render: {
    limitInputPixels: {
      doc: 'Refuse images with more pixels than this (width x height)',
      format: 'positive-int',
      default: 50_000_000,
      env: 'EASEL_LIMIT_INPUT_PIXELS',
    },
    maxFileBytes: {
      doc: 'Refuse image files larger than this',
      format: 'positive-int',
      default: 64 * 1024 * 1024,
      env: 'EASEL_MAX_FILE_BYTES',
    },
    renderAhead: { doc: 'Frames rendered ahead of their slot per canvas', format: 'positive-int', default: 2, env: 'EASEL_RENDER_AHEAD' },
    cacheMegabytes: {
      doc: 'Memory for renditions of images that repeat (looping folders); 0 turns it off',
      format: 'non-negative-int',
      default: 128,
      env: 'EASEL_RENDER_CACHE_MB',
    },
    webp: {
      quality: { doc: 'WebP quality', format: 'quality', default: 80, env: 'EASEL_WEBP_QUALITY' },
      effort: {
        doc: 'WebP effort 0-6: higher is smaller and much slower (see npm run bench)',
        format: 'webp-effort',
        default: 0,
        env: 'EASEL_WEBP_EFFORT',
      },
    },
    jpeg: { quality: { doc: 'JPEG quality', format: 'quality', default: 80, env: 'EASEL_JPEG_QUALITY' } },
    avif: {
      quality: { doc: 'AVIF quality', format: 'quality', default: 50, env: 'EASEL_AVIF_QUALITY' },
      effort: { doc: 'AVIF effort 0-9', format: 'avif-effort', default: 0, env: 'EASEL_AVIF_EFFORT' },
    },
  },
};

type Schema = typeof schema;
/** A schema leaf's value is its default's type; a branch is the object of its leaves. */
type ConfigOf<S> = S extends { doc: string; default: infer D } ? D : { [K in keyof S]: ConfigOf<S[K]> };
/** The loaded configuration, derived from the schema: a key added there is typed here. */
export type EaselConfig = Omit<ConfigOf<Schema>, 'config'>;

/** An inference canvas with no service to ask would only ever show its fallback: say so at start. */
function checkInferenceNeeded(config: EaselConfig): void {
  if (config.inference.endpoints.length > 0) return;
  const i = config.canvases.findIndex((c) => c.source?.type === 'inference');
  if (i >= 0)
    throw new Error(
      `canvases[${i}].source.type: "inference" needs inference.endpoints (EASEL_INFERENCE_ENDPOINTS or --inference host:port)`,
    );
  if (config.canvasDefaults.source.type === 'inference') {
    throw new Error(
      'canvasDefaults.source.type: "inference" needs inference.endpoints (EASEL_INFERENCE_ENDPOINTS or --inference host:port)',
    );
  }
}

/** Shortest operator token accepted on a server other machines can reach. */
export const MIN_OPERATOR_TOKEN = 16;

/** A short token on a reachable server is guessed in minutes: refuse it, saying how to make one. */
function checkOperatorToken(config: EaselConfig): void {
  const { token } = config.operator;
  if (token === '' || token.length >= MIN_OPERATOR_TOKEN || isLoopbackHost(config.host)) return;
  throw new Error(
    `operator.token: is ${token.length} characters, too short for host ${config.host} (at least ${MIN_OPERATOR_TOKEN}); make one with: openssl rand -base64 24`,
  );
}

export interface LoadConfigOptions {
  /** Command-line arguments after the script name. */
  argv?: string[];
  env?: Record<string, string | undefined>;
  /** Folder holding <env>.json files. */
  configDir?: string;
}

/**
 * Builds the configuration: schema defaults, then config/<env>.json (or --config FILE), then
 * EASEL_* variables, then flags. Throws EASEL_ERR_CONFIG_INVALID listing every bad key.
 */
export function loadConfig(options: LoadConfigOptions = {}): EaselConfig {
  const env = options.env ?? process.env;
  const flags = checkFlags(options.argv ?? [], schemaOptions(schema));
  if (!flags.ok)
    throw new EaselError('EASEL_ERR_CONFIG_INVALID', flags.message, { hint: 'npm start -- --help lists every flag and EASEL_* variable' });
  const conf = convict<Schema>(schema as never, { env: env as Record<string, string>, args: options.argv ?? [] });
  const explicit = conf.get('config' as never) as string;
  const file = explicit || path.join(options.configDir ?? path.join(PROJECT_ROOT, 'config'), `${conf.get('env' as never)}.json`);
  try {
    if (explicit && !existsSync(explicit)) throw new Error(`config: file "${explicit}" does not exist`);
    if (existsSync(file)) conf.loadFile(file);
    conf.validate({ allowed: 'strict' });
    checkInferenceNeeded(conf.getProperties() as unknown as EaselConfig);
    checkOperatorToken(conf.getProperties() as unknown as EaselConfig);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new EaselError(
      'EASEL_ERR_CONFIG_INVALID',
      `Configuration is not valid:${detail.includes('\n') ? '\n  ' : ' '}${detail.split('\n').join('\n  ')}`,
      {
        hint: `Fix the key${detail.includes('\n') ? 's' : ''} named above in ${existsSync(file) ? `"${file}", ` : ''}the EASEL_* environment or the command line; README.md lists every key`,
        cause: err,
        details: { file },
      },
    );
  }
  const config = conf.getProperties() as unknown as EaselConfig;
  // One generated id per process: a SIGHUP reload must read the same node, not a new one.
  if (config.cluster.nodeId === '') config.cluster.nodeId = processNodeId ??= defaultNodeId();
  return config;
}

/** A declared (or newly connected) canvas with every blank filled from the defaults. */
export function resolveCanvas(config: EaselConfig, declared: CanvasDeclaration): CanvasConfig {
  const d = config.canvasDefaults;
  const s = declared.source ?? {};
  const auto = config.inference.endpoints.length > 0 ? 'inference' : 'folder';
  const type = s.type ?? (d.source.type === 'auto' ? auto : d.source.type);
  const source: SourceConfig =
    type === 'folder'
      ? { type, path: path.resolve(s.path ?? d.source.path), order: s.order ?? d.source.order }
      : {
          type,
          prompt: s.prompt ?? d.source.prompt,
          negativePrompt: s.negativePrompt ?? d.source.negativePrompt,
          steps: s.steps ?? d.source.steps,
          ...(s.seed !== undefined ? { seed: s.seed } : {}),
          drift: s.drift ?? d.source.drift,
          fallback: (s.fallback ?? d.source.fallback) === '' ? '' : path.resolve(s.fallback ?? d.source.fallback),
        };
  return {
    slug: declared.slug,
    fps: declared.fps ?? d.fps,
    width: declared.width ?? d.width,
    height: declared.height ?? d.height,
    fit: declared.fit ?? d.fit,
    formats: declared.formats ?? d.formats,
    sync: declared.sync ?? d.sync,
    leadMs: declared.leadMs ?? d.leadMs,
    archive: declared.archive ?? true,
    source,
    ...(declared.tiles ? { tiles: resolveTiles(declared.tiles, declared.width ?? d.width, declared.height ?? d.height) } : {}),
  };
}

/** A declared grid with its blanks filled: a screen is the canvas's size unless the grid says. */
function resolveTiles(t: NonNullable<CanvasDeclaration['tiles']>, width: number, height: number): TileGrid {
  return { columns: t.columns, rows: t.rows, bezelPx: t.bezelPx ?? 0, tileWidth: t.tileWidth ?? width, tileHeight: t.tileHeight ?? height };
}
