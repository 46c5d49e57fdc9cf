import uWS, { type us_listen_socket } from 'uWebSockets.js';
import { afterEach, describe, expect, it } from 'vitest';
import { FakeClock } from '../../test/support/fake-clock.js';
import { captureLogs } from '../../test/support/log-capture.js';
import { rawRequest, type RawReply } from '../../test/support/raw-http.js';
import { EaselError } from '../errors.js';
import { createAuthFailures } from './auth-failures.js';
import { createHostPolicy } from './host-policy.js';
import { contentTypeMatches, createApi, decodePathPart, jsonBody, type ApiOptions, type ApiRequest } from './http.js';
import { createRateLimiter } from './rate-limit.js';

/**
 * The API layer's own rules on a real uWS app on port 0, talked to byte for byte: what is decided
 * before a handler runs and in which order, body limits, problem replies and redaction.
 */
const sockets: us_listen_socket[] = [];
afterEach(() => {
  for (const socket of sockets.splice(0)) uWS.us_listen_socket_close(socket);
});

const TOKEN = 'operator-token-0123456789';
const DISPLAY_TOKEN = 'display-token-0123456789';

async function setUp(overrides: Partial<ApiOptions> & { burst?: number } = {}) {
  const clock = new FakeClock();
  const { logger, lines } = captureLogs();
  let closing = false;
  const options: ApiOptions = {
    logger,
    token: () => TOKEN,
    limiter: createRateLimiter({ perMinute: 60, burst: overrides.burst ?? 100, clock }),
    // One free wrong token, then a minute's wait: a guessing address is slowed at once.
    authFailures: createAuthFailures({ clock, free: 1, baseMs: 60_000 }),
    hosts: createHostPolicy({ allowedHosts: [], bindHost: '127.0.0.1', machineNames: [] }),
    isClosing: () => closing,
    ...overrides,
  };
  const app = uWS.App();
  const api = createApi(app, options);
  const seen: ApiRequest[] = [];
  const echo = (req: ApiRequest) => {
    seen.push(req);
    return {
      status: 200,
      json: { params: req.params, bytes: req.body.length, operator: req.operator, who: req.remoteAddress, file: '/srv/art/closing.jpg' },
    };
  };
  api.route('get', '/api/things/:name', echo);
  api.route('post', '/api/things/:name', echo, { mutating: true, maxBody: 100 });
  api.route('put', '/api/images/:name', echo, { mutating: true, accepts: ['image/*'] });
  api.route('get', '/api/view', echo, { view: true });
  api.route('get', '/api/text', () => ({ status: 200, body: 'folder /srv/art/private/ from 10.0.0.9', contentType: 'text/plain' }));
  api.route('get', '/api/fail/:code', (req) => {
    if (req.params.code === 'bug') throw new TypeError('secret internals');
    throw new EaselError(req.params.code as never, 'It went wrong', { hint: 'Do better', details: { retryAfterSeconds: 7, slug: 'wall' } });
  });
  app.get('/events', (res, raw) => {
    const req = api.admit(res, raw, { view: true });
    if (req) res.cork(() => res.writeStatus('200 OK').end('admitted'));
  });
  const socket = await new Promise<us_listen_socket>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (s) => (s ? resolve(s) : reject(new Error('no port')))),
  );
  sockets.push(socket);
  const port = uWS.us_socket_local_port(socket);

  /** One request with exactly these headers (Host included when given). */
  type Reply = RawReply & { json: Record<string, unknown> };
  const send = (method: string, url: string, headers: Record<string, string> = {}, body?: Buffer | string): Promise<Reply> => {
    const head = `${method} ${url} HTTP/1.1\r\n${Object.entries({ host: `127.0.0.1:${port}`, connection: 'close', ...headers })
      .filter(([, v]) => v !== '')
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('')}\r\n`;
    return rawRequest(port, head, body === undefined ? undefined : Buffer.from(body)).then((r) => {
      const text = Buffer.from(r.body, 'latin1').toString('utf8'); // raw-http reads bytes as latin1
      return { ...r, body: text, json: text.startsWith('{') ? (JSON.parse(text) as Record<string, unknown>) : {} };
    });
  };
  const operator = { authorization: `Bearer ${TOKEN}` };
  return { api, clock, lines, seen, send, operator, close: () => (closing = true) };
}

describe('decodePathPart', () => {
  it('decodes percent-encoding and answers a malformed one with a 400 naming the parameter', async () => {
    expect(decodePathPart('slug', 'left%20canva')).toBe('left canva');
    expect(() => decodePathPart('slug', '%E0%A4%A')).toThrow(
      expect.objectContaining({ code: 'EASEL_ERR_REQUEST_INVALID', message: 'slug: "%E0%A4%A" is not valid percent-encoding' }),
    );
    const { send, seen } = await setUp();
    expect((await send('GET', '/api/things/a%20b')).json).toMatchObject({ params: { name: 'a b' } });
    const bad = await send('GET', '/api/things/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 'EASEL_ERR_REQUEST_INVALID', detail: expect.stringContaining('name:') });
    expect(seen).toHaveLength(1);
  });
});

describe('contentTypeMatches', () => {
  it('matches the type without its parameters, wildcards only where a subtype exists, and +json suffixes', () => {
    const json = ['application/json', 'application/*+json'];
    expect(contentTypeMatches('application/json; charset=utf-8', json)).toBe(true);
    expect(contentTypeMatches('Application/JSON', json)).toBe(true);
    expect(contentTypeMatches('application/problem+json', json)).toBe(true);
    expect(contentTypeMatches('application/jsonx', json)).toBe(false);
    expect(contentTypeMatches('text/plain', json)).toBe(false);
    expect(contentTypeMatches('application/x-www-form-urlencoded', json)).toBe(false);
    expect(contentTypeMatches('image/png', ['image/*'])).toBe(true);
    expect(contentTypeMatches('image/', ['image/*'])).toBe(false);
    expect(contentTypeMatches('image', ['image/*'])).toBe(false);
    expect(contentTypeMatches('text/png', ['image/*'])).toBe(false);
  });
});

describe('jsonBody', () => {
  const body = (text: string) => ({ body: Buffer.from(text) }) as ApiRequest;
  it('takes an empty body as {}, and refuses what is not a JSON object', () => {
    expect(jsonBody(body(''))).toEqual({});
    expect(jsonBody(body('{"prompt": "a"}'))).toEqual({ prompt: 'a' });
    for (const text of ['{', '[1]', 'null', '"text"']) {
      expect(() => jsonBody(body(text))).toThrow(expect.objectContaining({ code: 'EASEL_ERR_REQUEST_INVALID' }));
    }
  });
});

describe('problem replies', () => {
  it('map each error code to its status, and carry retryAfterSeconds as a header, not a field', async () => {
    const { api } = await setUp();
    const status = (code: string) => api.problemFor(new EaselError(code as never, 'x', { hint: 'y' })).status;
    const expected = {
      EASEL_ERR_REQUEST_INVALID: 400,
      EASEL_ERR_AUTH_REQUIRED: 401,
      EASEL_ERR_AUTH_INVALID: 403,
      EASEL_ERR_HOST_NOT_ALLOWED: 421,
      EASEL_ERR_CONTENT_TYPE: 415,
      EASEL_ERR_NOT_FOUND: 404,
      EASEL_ERR_INFERENCE_NOT_CONFIGURED: 409,
      EASEL_ERR_CANVAS_DECLARED: 409,
      EASEL_ERR_IMAGE_TOO_LARGE: 413,
      EASEL_ERR_IMAGE_UNREADABLE: 422,
      EASEL_ERR_RATE_LIMITED: 429,
      EASEL_ERR_SERVER_CLOSING: 503,
      // Codes with no status of their own: by family, else an internal error.
      EASEL_ERR_INFERENCE_TIMEOUT: 503,
      EASEL_ERR_PLAYLIST_INVALID: 400,
      EASEL_ERR_FOLDER_MISSING: 500,
    };
    expect(Object.fromEntries(Object.keys(expected).map((c) => [c, status(c)]))).toEqual(expected);
    const titled = api.problemFor(
      new EaselError('EASEL_ERR_AUTH_REQUIRED', 'x', { hint: 'y', details: { title: 'Display token required' } }),
    );
    expect(titled.json).toMatchObject({ title: 'Display token required', status: 401 });
  });

  it('are problem+json with code, detail and hint, on the wire with Retry-After', async () => {
    const { send } = await setUp();
    const busy = await send('GET', '/api/fail/EASEL_ERR_INFERENCE_BUSY');
    expect(busy.status).toBe(503);
    expect(busy.headers['content-type']).toBe('application/problem+json');
    expect(busy.headers['retry-after']).toBe('7');
    expect(busy.json).toEqual({
      type: 'urn:easel:error:EASEL_ERR_INFERENCE_BUSY',
      title: 'Unavailable',
      status: 503,
      detail: 'It went wrong',
      hint: 'Do better',
      code: 'EASEL_ERR_INFERENCE_BUSY',
      slug: 'wall',
    });
  });

  it('answer an unexpected error with a plain 500 that tells nothing of it, and log it', async () => {
    const { send, lines } = await setUp();
    const reply = await send('GET', '/api/fail/bug');
    expect(reply.status).toBe(500);
    expect(reply.body).not.toContain('secret internals');
    expect(reply.json).toMatchObject({ type: 'about:blank', status: 500 });
    expect(lines.filter((l) => l.msg === 'Unexpected error in an API route')).toHaveLength(1);
  });
});

describe('bodies', () => {
  it('over maxBody are refused with 413 by their declared length', async () => {
    const { send, operator, seen } = await setUp();
    const reply = await send(
      'POST',
      '/api/things/a',
      { ...operator, 'content-type': 'application/json', 'content-length': '101' },
      'x'.repeat(101),
    );
    expect(reply.status).toBe(413);
    expect(reply.json).toMatchObject({ code: 'EASEL_ERR_BODY_TOO_LARGE' });
    expect(seen).toHaveLength(0);
  });

  it('over maxBody are refused with 413 by the bytes streamed when no length is declared, and within it are read whole', async () => {
    const { send, operator, seen } = await setUp();
    const chunk = (text: string) => `${text.length.toString(16)}\r\n${text}\r\n`;
    const chunked = { ...operator, 'content-type': 'application/json', 'transfer-encoding': 'chunked' };
    const reply = await send('POST', '/api/things/a', chunked, `${chunk('x'.repeat(60)) + chunk('y'.repeat(60))}0\r\n\r\n`);
    expect([reply.status, reply.json.code]).toEqual([413, 'EASEL_ERR_BODY_TOO_LARGE']);
    expect(seen).toHaveLength(0);
    const within = await send('POST', '/api/things/a', chunked, `${chunk('x'.repeat(60)) + chunk('y'.repeat(40))}0\r\n\r\n`);
    expect(within.json).toMatchObject({ bytes: 100 });
  });

  it('within maxBody reach the handler whole', async () => {
    const { send, operator } = await setUp();
    const reply = await send(
      'POST',
      '/api/things/a',
      { ...operator, 'content-type': 'application/json', 'content-length': '100' },
      'x'.repeat(100),
    );
    expect(reply.status).toBe(200);
    expect(reply.json).toMatchObject({ bytes: 100, operator: true });
  });
});

describe('the guard', () => {
  it('decides in order: closing, Host, Origin, throttle, token, content type, rate limit', async () => {
    const { send, operator, clock, close } = await setUp({ burst: 2 });
    const json = { 'content-type': 'application/json' };
    const all = {
      host: 'evil.example',
      origin: 'https://evil.example',
      authorization: 'Bearer wrong',
      'content-type': 'text/plain',
      'content-length': '2',
    };
    const post = (headers: Record<string, string>) => send('POST', '/api/things/a', headers, headers['content-length'] ? '{}' : undefined);
    const verdict = async (headers: Record<string, string>) => {
      const r = await post(headers);
      return [r.status, r.json.code];
    };

    const right = { ...all, host: '127.0.0.1', origin: '', authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
    expect(await verdict(right)).toEqual([200, undefined]);
    expect(await verdict(all)).toEqual([421, 'EASEL_ERR_HOST_NOT_ALLOWED']);
    expect(await verdict({ ...all, host: 'localhost' })).toEqual([403, 'EASEL_ERR_ORIGIN_NOT_ALLOWED']);
    // The one free wrong token: refused as such, and the address must wait from now on.
    expect(await verdict({ ...all, host: 'localhost', origin: '' })).toEqual([403, 'EASEL_ERR_AUTH_INVALID']);
    const throttled = await post({ ...operator, ...json });
    expect([throttled.status, throttled.json.code, throttled.headers['retry-after']]).toEqual([429, 'EASEL_ERR_AUTH_THROTTLED', '60']);
    clock.advance(60_000);
    expect(await verdict({ ...operator, 'content-type': 'text/plain', 'content-length': '2' })).toEqual([415, 'EASEL_ERR_CONTENT_TYPE']);
    // The minute waited refilled the bucket: a burst of 2, then the limit.
    expect(await verdict({ ...operator, ...json, 'content-length': '2' })).toEqual([200, undefined]);
    expect(await verdict({ ...operator, ...json, 'content-length': '2' })).toEqual([200, undefined]);
    const limited = await post({ ...operator, ...json, 'content-length': '2' });
    expect([limited.status, limited.json.code, Number(limited.headers['retry-after'])]).toEqual([
      429,
      'EASEL_ERR_RATE_LIMITED',
      expect.any(Number),
    ]);
    // Content type before the rate limit: a refused type costs nothing of it, and says why.
    expect(await verdict({ ...operator, 'content-type': 'text/plain', 'content-length': '2' })).toEqual([415, 'EASEL_ERR_CONTENT_TYPE']);
    close();
    expect(await verdict(all)).toEqual([503, 'EASEL_ERR_SERVER_CLOSING']);
  });

  it('asks mutating routes for the operator token, with a Bearer challenge', async () => {
    const { send } = await setUp();
    const reply = await send('POST', '/api/things/a');
    expect(reply.status).toBe(401);
    expect(reply.headers['www-authenticate']).toBe('Bearer realm="easel"');
    expect(reply.json).toMatchObject({ code: 'EASEL_ERR_AUTH_REQUIRED' });
  });

  it('takes a command without a body and without a type, and refuses a body with none', async () => {
    const { send, operator } = await setUp();
    expect((await send('POST', '/api/things/a', operator)).status).toBe(200);
    expect((await send('POST', '/api/things/a', { ...operator, 'content-length': '2' }, '{}')).json.code).toBe('EASEL_ERR_CONTENT_TYPE');
    expect((await send('PUT', '/api/images/a', { ...operator, 'content-type': 'image/png', 'content-length': '2' }, 'xx')).status).toBe(
      200,
    );
    const json = await send('PUT', '/api/images/a', { ...operator, 'content-type': 'application/json', 'content-length': '2' }, '{}');
    expect(json.json).toMatchObject({ code: 'EASEL_ERR_CONTENT_TYPE', hint: expect.stringContaining('content-type: image/jpeg') });
  });

  it('never takes ?token= for commands, but does for reading routes', async () => {
    const { send } = await setUp();
    expect((await send('POST', `/api/things/a?token=${TOKEN}`)).status).toBe(401);
    expect((await send('GET', `/api/things/a?token=${TOKEN}`)).json).toMatchObject({ operator: true });
  });

  it('with a display token, shows pictures only to its bearer or the operator, through route and admit alike', async () => {
    const { send, operator } = await setUp({ displayToken: DISPLAY_TOKEN });
    expect((await send('GET', '/api/view')).json).toMatchObject({ code: 'EASEL_ERR_AUTH_REQUIRED', title: 'Display token required' });
    expect((await send('GET', `/api/view?token=${DISPLAY_TOKEN}`)).json).toMatchObject({ operator: false });
    expect((await send('GET', '/api/view', operator)).json).toMatchObject({ operator: true });
    expect((await send('GET', '/events')).status).toBe(401);
    expect((await send('GET', `/events?token=${DISPLAY_TOKEN}`)).body).toBe('admitted');
    // Reading routes without view need no token at all.
    expect((await send('GET', '/api/things/a')).status).toBe(200);
    expect((await send('GET', '/api/view?token=nope')).json).toMatchObject({ code: 'EASEL_ERR_AUTH_INVALID', title: 'Token not accepted' });
    // A wrong token counts against the address on any route, and admit waits it out like route.
    expect((await send('GET', `/events?token=${DISPLAY_TOKEN}`)).json).toMatchObject({ code: 'EASEL_ERR_AUTH_THROTTLED' });
  });
});

describe('redaction', () => {
  it('hides addresses and server paths from readers without the operator token', async () => {
    const { send, operator } = await setUp();
    const anonymous = await send('GET', '/api/things/a');
    expect(anonymous.json).toEqual({ params: { name: 'a' }, bytes: 0, operator: false, file: '…/closing.jpg' });
    const full = await send('GET', '/api/things/a', operator);
    expect(full.json).toMatchObject({ who: expect.any(String), file: '/srv/art/closing.jpg' });
    expect((await send('GET', '/api/text')).body).toBe('folder …/private from 10.0.0.9');
  });

  it('shows everything to every reader with operator.openReads, and to all on a server with no token', async () => {
    const open = await setUp({ openReads: true });
    expect((await open.send('GET', '/api/things/a')).json).toMatchObject({
      operator: false,
      file: '/srv/art/closing.jpg',
      who: expect.any(String),
    });
    const tokenless = await setUp({ token: () => undefined });
    expect((await tokenless.send('GET', '/api/things/a')).json).toMatchObject({ operator: true, file: '/srv/art/closing.jpg' });
  });
});
