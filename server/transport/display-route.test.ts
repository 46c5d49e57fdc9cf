import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import uWS, { type us_listen_socket } from 'uWebSockets.js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DisplayClient } from '../../test/support/display-client.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { putImage, solidPng } from '../../test/support/images.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { rawRequest } from '../../test/support/raw-http.js';
import { createAuthFailures } from '../api/auth-failures.js';
import { createRegistry } from '../canvas/registry.js';
import { loadConfig } from '../config.js';
import { MAX_CLIENT_MESSAGE_BYTES, registerDisplayRoute, type DisplayLimits } from './display-route.js';
import { quickRenderer } from '../../test/support/test-renderer.js';

/**
 * The display route's own rules on a real uWS app on port 0 with real canvases (a temp folder of
 * tiny PNGs) on a fake clock: which upgrades it refuses and how, and what it makes of messages.
 */
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const DISPLAY_TOKEN = 'display-token-0123456789';
const OPERATOR_TOKEN = 'operator-token-0123456789';

interface SetUpOptions {
  limits?: Partial<DisplayLimits>;
  displayToken?: string;
  createOnConnect?: boolean;
  maxCanvases?: number;
}

async function setUp(opts: SetUpOptions = {}) {
  const dir = mkdtempSync(path.join(tmpdir(), 'easel-display-route-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  putImage(dir, 'a.png', await solidPng('#ff0000', 32, 32));
  const config = loadConfig({
    env: {
      EASEL_CANVASES: '[{"slug": "left-canva"}, {"slug": "right-canva"}]',
      EASEL_FOLDER: dir,
      EASEL_CREATE_CANVASES_ON_CONNECT: String(opts.createOnConnect ?? false),
      ...(opts.maxCanvases ? { EASEL_MAX_CANVASES: String(opts.maxCanvases) } : {}),
    },
    argv: [],
    configDir: dir,
  });
  const clock = new FakeClock();
  const { logger } = captureLogs();
  const renderer = quickRenderer();
  const registry = createRegistry({ config, renderer, clock, logger });
  cleanups.push(() => registry.closeAll());
  registry.startDeclared();
  let closing = false;
  const app = uWS.App();
  const route = registerDisplayRoute(app, {
    registry,
    displayToken: opts.displayToken,
    operatorToken: () => OPERATOR_TOKEN,
    authFailures: createAuthFailures({ clock }),
    limits: {
      maxDisplaysPerCanvas: 100,
      maxConnections: 100,
      connectionsPerSecond: 100,
      connectionBurst: 100,
      rateLimitLoopback: true,
      ...opts.limits,
    },
    logger,
    clock,
    isClosing: () => closing,
    maxBackpressureBytes: 1024 * 1024,
    idleTimeoutSeconds: 60,
  });
  const socket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('no port')))),
  );
  const port = uWS.us_socket_local_port(socket);
  const clients: DisplayClient[] = [];
  cleanups.push(() => {
    route.closeAll();
    uWS.us_listen_socket_close(socket);
  });
  cleanups.push(() => Promise.all(clients.map((c) => (c.socket.close(), c.closed))));

  /** An upgrade written byte for byte: the refusal comes back as a plain HTTP reply. */
  const upgrade = async (url: string, subprotocols?: string) => {
    const head =
      `GET ${url} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      (subprotocols ? `Sec-WebSocket-Protocol: ${subprotocols}\r\n` : '') +
      'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const reply = await rawRequest(port, head);
    return {
      status: reply.status,
      headers: reply.headers,
      json: reply.body.startsWith('{') ? (JSON.parse(reply.body) as Record<string, unknown>) : {},
    };
  };
  const connect = async (url: string, protocols?: string[]) => {
    const client = new DisplayClient(`ws://127.0.0.1:${port}${url}`, protocols);
    clients.push(client);
    await client.opened;
    return client;
  };
  /** The server's side of the one display connected so far. */
  const display = () => [...route.sockets][0]!.getUserData().display!;
  return { route, registry, clock, upgrade, connect, display, close: () => (closing = true) };
}

describe('upgrades', () => {
  it('refuses a malformed slug and an unknown format with 400, and an unknown canvas with 404 and did-you-mean', async () => {
    const { upgrade, route } = await setUp();
    expect(await upgrade('/ws/Left%20Canva')).toMatchObject({ status: 400, json: { code: 'EASEL_ERR_SLUG_INVALID' } });
    expect(await upgrade('/ws/left-canva', 'easel.v9, chat')).toMatchObject({
      status: 400,
      json: { title: 'Unknown subprotocol', detail: 'Sec-WebSocket-Protocol "easel.v9, chat" names none of easel.v2, easel.v1' },
    });
    expect(await upgrade('/ws/left-canva?format=json', 'easel.v2')).toMatchObject({
      status: 400,
      json: { title: 'Format contradicts the subprotocol' },
    });
    expect((await upgrade(`/ws/left-canva?format=${'x'.repeat(3000)}`)).json.detail).toHaveLength(79); // the value cut to 40 characters
    expect(await upgrade('/ws/left-canva?format=xml')).toMatchObject({
      status: 400,
      json: { title: 'Unknown format', detail: 'Format "xml" is not one of binary, json' },
    });
    expect(await upgrade('/ws/left-canvas')).toMatchObject({
      status: 404,
      json: { code: 'EASEL_ERR_NOT_FOUND', hint: 'Open /ws/left-canva' },
    });
    expect(route.refused).toMatchObject({ badRequest: 5, unknownCanvas: 1 });
    expect(route.sockets.size).toBe(0);
  });

  it("with a display token, takes only its bearer or the operator's token", async () => {
    const { upgrade, connect, route } = await setUp({ displayToken: DISPLAY_TOKEN });
    expect(await upgrade('/ws/left-canva')).toMatchObject({ status: 401, json: { code: 'EASEL_ERR_AUTH_REQUIRED' } });
    expect(await upgrade('/ws/left-canva?token=nope')).toMatchObject({ status: 403, json: { code: 'EASEL_ERR_AUTH_INVALID' } });
    expect(route.refused.token).toBe(2);
    await connect(`/ws/left-canva?token=${DISPLAY_TOKEN}`);
    await connect(`/ws/left-canva?token=${OPERATOR_TOKEN}`);
    expect(route.sockets.size).toBe(2);
  });

  it('refuses an address opening too many connections with 429 and Retry-After, before anything else', async () => {
    const { upgrade, connect, route } = await setUp({ limits: { connectionsPerSecond: 1, connectionBurst: 2 } });
    await connect('/ws/left-canva');
    expect((await upgrade('/ws/Bad')).status).toBe(400);
    const third = await upgrade('/ws/left-canva');
    expect(third.status).toBe(429);
    expect(Number(third.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(route.refused.rate).toBe(1);
  });

  it('lets loopback through the rate limit unless told otherwise', async () => {
    const { connect, route } = await setUp({ limits: { connectionsPerSecond: 1, connectionBurst: 1, rateLimitLoopback: false } });
    for (let i = 0; i < 3; i++) await connect('/ws/left-canva');
    expect(route.refused.rate).toBe(0);
  });

  it('answers each limit with 503 and counts it by reason', async () => {
    const perCanvas = await setUp({ limits: { maxDisplaysPerCanvas: 1 } });
    await perCanvas.connect('/ws/left-canva');
    expect(await perCanvas.upgrade('/ws/left-canva')).toMatchObject({ status: 503, json: { code: 'EASEL_ERR_LIMIT_REACHED' } });
    await perCanvas.connect('/ws/right-canva');
    expect(perCanvas.route.refused.displaysPerCanvas).toBe(1);

    const total = await setUp({ limits: { maxConnections: 1 } });
    await total.connect('/ws/left-canva');
    expect((await total.upgrade('/ws/right-canva')).status).toBe(503);
    expect(total.route.refused.connections).toBe(1);

    const canvases = await setUp({ createOnConnect: true, maxCanvases: 2 });
    expect((await canvases.upgrade('/ws/visitor')).status).toBe(503);
    expect(canvases.route.refused.canvases).toBe(1);
    expect(canvases.registry.get('visitor')).toBeUndefined();
  });

  it('refuses every upgrade with 503 while the server shuts down', async () => {
    const { upgrade, route, close } = await setUp();
    close();
    expect(await upgrade('/ws/left-canva')).toMatchObject({ status: 503, json: { code: 'EASEL_ERR_SERVER_CLOSING' } });
    expect(route.refused.closing).toBe(1);
  });
});

describe('messages', () => {
  it('greet a binary display with hello and answer its ping with pong and the server time', async () => {
    const { connect, clock, display } = await setUp();
    const client = await connect('/ws/left-canva');
    await vi.waitFor(() => expect(client.texts).toHaveLength(1));
    expect(client.socket.protocol).toBe('easel.v2');
    expect(JSON.parse(client.texts[0]!)).toEqual({
      type: 'hello',
      protocol: 2,
      canvas: 'left-canva',
      fps: 4,
      serverTime: clock.now(),
      sync: true,
      leadMs: 300,
    });
    clock.advance(1234);
    client.socket.send(JSON.stringify({ type: 'ping', t0: 42, offset: -17 }));
    await vi.waitFor(() => expect(client.texts).toHaveLength(2));
    expect(JSON.parse(client.texts[1]!)).toEqual({ type: 'pong', t0: 42, serverTime: clock.now() });
    expect(display().clockOffsetMs).toBe(-17);
  });

  it('greet a v1 binary display (format=binary, no subprotocol) with the v1 hello', async () => {
    const { connect, clock } = await setUp();
    const client = await connect('/ws/left-canva?format=binary', []);
    await vi.waitFor(() => expect(client.texts).toHaveLength(1));
    expect(client.socket.protocol).toBe('');
    expect(JSON.parse(client.texts[0]!)).toEqual({ type: 'hello', protocol: 1, canvas: 'left-canva', fps: 4, serverTime: clock.now() });
    await vi.waitFor(() => {
      clock.advance(250); // slots fall on the fake clock; the first image renders meanwhile
      expect(client.frames.length).toBeGreaterThan(0);
    });
  });

  it('take the v2 report of a screen: clock, error and late frames, counted per canvas', async () => {
    const { connect, display, route, clock } = await setUp();
    const client = await connect('/ws/left-canva');
    const report = { type: 'report', offsetMs: 5_000.5, rttMs: 3, errorMs: 1.5, shown: 40, late: 2 };
    client.socket.send(JSON.stringify(report));
    await vi.waitFor(() => expect(display().sync).not.toBeNull());
    expect(display().clockOffsetMs).toBe(5_000.5);
    expect(display().sync).toEqual({ rttMs: 3, errorMs: 1.5, shown: 40, late: 2, at: clock.now() });
    client.socket.send(JSON.stringify({ ...report, shown: 80, late: 5 }));
    await vi.waitFor(() => expect(display().sync?.late).toBe(5));
    expect(route.lateFrames.get('left-canva')).toBe(5); // counted once, not 2 + 5
    expect(route.ignoredMessages).toBe(0);
  });

  it('send a display that asks for nothing, as the seed client does, JSON frames and no hello', async () => {
    const { connect, route, clock } = await setUp();
    const client = await connect('/ws/left-canva', []);
    await vi.waitFor(() => {
      clock.advance(250);
      expect(client.texts.length).toBeGreaterThan(0);
    });
    expect(Object.keys(JSON.parse(client.texts[0]!))).toEqual(['timestamp', 'image', 'image_id']);
    expect(client.frames).toEqual([]);
    expect(route.ignoredMessages).toBe(0);
  });

  it('send a JSON-mode display neither hello nor pong', async () => {
    const { connect, route } = await setUp();
    const client = await connect('/ws/left-canva?format=json', []);
    client.socket.send(JSON.stringify({ type: 'ping', t0: 42 }));
    client.socket.send('junk');
    await vi.waitFor(() => expect(route.ignoredMessages).toBe(1));
    client.socket.close();
    await client.closed; // the server's close frame follows anything it sent before
    expect(client.texts).toEqual([]);
  });

  it('move a display to the rendition of its new viewport', async () => {
    const { connect, display } = await setUp();
    const client = await connect('/ws/left-canva?w=320&h=240&dpr=1');
    const before = display().key;
    client.socket.send(JSON.stringify({ type: 'viewport', w: 1920, h: 1080, dpr: 2 }));
    await vi.waitFor(() => expect(display().key).not.toBe(before));
    expect(display().key).toMatch(/:1024x1024:/); // the canvas's own size: never enlarged past it
  });

  it('count junk as ignored, and close a display sending an oversized message with 1009', async () => {
    const { connect, display, route } = await setUp();
    const client = await connect('/ws/left-canva');
    client.socket.send('ping'); // the seed's keep-alive: part of the protocol
    client.socket.send(Buffer.from([1, 2, 3]), { binary: true });
    client.socket.send('{not json');
    client.socket.send(JSON.stringify({ type: 'dance' }));
    client.socket.send(JSON.stringify({ type: 'viewport', w: -1, h: 'tall' }));
    client.socket.send(JSON.stringify({ type: 'ping', t0: 'soon' }));
    await vi.waitFor(() => expect(route.ignoredMessages).toBe(5));
    expect(display().ignoredMessages).toBe(5);
    client.socket.send('x'.repeat(MAX_CLIENT_MESSAGE_BYTES + 1));
    expect(await client.closed).toMatchObject({ code: 1009 });
    expect(route.ignoredMessages).toBe(6);
    await vi.waitFor(() => expect(route.sockets.size).toBe(0));
  });
});
