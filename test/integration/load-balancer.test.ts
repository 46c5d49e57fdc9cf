import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../server/config.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { NGINX, startNginx, type TestNginx } from '../support/nginx.js';
import { startRedis, type TestRedis } from '../support/redis-server.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';
import { until } from '../support/until.js';

/**
 * The README's load balancer, as written: deploy/nginx/easel-cluster.conf (the README shows the
 * same text) in Debian's nginx, unprivileged on a free port, in front of two nodes on a real
 * redis-server. Displays and the event stream go through it; a node that stops is routed around.
 */
const TOKEN = 'load-balancer-test-token';
const SLUG = 'wall';
const CONF = path.join(PROJECT_ROOT, 'deploy/nginx/easel-cluster.conf');

/** The config with the example nodes replaced by these ports (as many as given). */
function withNodes(conf: string, ports: number[]): string {
  const [first, ...rest] = conf.split(/^ {4}server 10\.0\.0\.\d+:8000 (.*);$/m);
  const options = rest[0] ?? '';
  const tail = rest.filter((_, i) => i % 2 === 1).at(-1) ?? '';
  return `${first}${ports.map((p) => `    server 127.0.0.1:${p} ${options};`).join('\n')}${tail}`;
}

const nginxThere = existsSync(NGINX);

describe.skipIf(!nginxThere)(`two nodes behind the README's nginx${nginxThere ? '' : ' (SKIPPED: nginx is not installed)'}`, () => {
  let redis: TestRedis;
  let folder: ReturnType<typeof tempFolder>;
  let nginx: TestNginx;
  const nodes: TestServer[] = [];
  const displays: DisplayClient[] = [];
  let stopped: TestServer | undefined;

  beforeAll(async () => {
    redis = await startRedis();
    folder = tempFolder();
    for (const [i, c] of ['#336699', '#996633', '#339966'].entries()) putImage(folder.dir, `${i}.png`, await solidPng(c, 32, 32));
    for (const id of ['node-a', 'node-b'])
      nodes.push(
        await startTestServer({
          EASEL_REDIS_URL: redis.url,
          EASEL_NODE_ID: id,
          EASEL_OPERATOR_TOKEN: TOKEN,
          EASEL_LEASE_MS: '1500',
          EASEL_FOLDER: folder.dir,
          EASEL_WIDTH: '32',
          EASEL_HEIGHT: '32',
          EASEL_CANVASES: JSON.stringify([{ slug: SLUG }]),
        }),
      );
    nginx = await startNginx(
      withNodes(
        readFileSync(CONF, 'utf8'),
        nodes.map((n) => n.port),
      ),
    );
  });

  afterAll(async () => {
    for (const d of displays) d.close();
    await nginx?.stop();
    for (const n of nodes) if (n !== stopped) await n.close();
    await redis?.stop();
    folder?.remove();
  });

  const watch = async () => {
    const d = new DisplayClient(`ws://127.0.0.1:${nginx.port}/ws/${SLUG}`);
    displays.push(d);
    await d.opened;
    return d;
  };
  const displaysOn = async (n: TestServer) =>
    (
      (await (await fetch(n.http(`/api/canvases/${SLUG}`), { headers: { authorization: `Bearer ${TOKEN}` } })).json()) as {
        displays: number;
      }
    ).displays;

  it('is the config the README shows', () => {
    const readme = readFileSync(path.join(PROJECT_ROOT, 'README.md'), 'utf8');
    expect(readme).toContain(`\`\`\`nginx\n${readFileSync(CONF, 'utf8')}\`\`\``);
  });

  it('carries WebSocket displays (the v2 subprotocol) to both nodes, each getting frames', async () => {
    const four = [await watch(), await watch(), await watch(), await watch()];
    for (const d of four) expect(d.socket.protocol).toBe('easel.v2');
    await until(() => (four.every((d) => d.frames.length >= 3) ? true : undefined));
    const counts = await until(async () => {
      const c = await Promise.all(nodes.map(displaysOn));
      return c[0]! + c[1]! === 4 ? c : undefined;
    });
    // least_conn spreads open connections: each node serves some of them.
    expect(Math.min(...counts)).toBeGreaterThanOrEqual(1);
    expect(nginx.errors()).not.toMatch(/\[(error|crit|alert|emerg)\]/);
  });

  it('passes the event stream on as it comes, not buffered', async () => {
    const controller = new AbortController();
    const res = await fetch(`http://127.0.0.1:${nginx.port}/api/events`, {
      headers: { authorization: `Bearer ${TOKEN}` },
      signal: controller.signal,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body!.getReader();
    let text = '';
    const read = async (want: RegExp) => {
      while (!want.test(text)) text += Buffer.from((await reader.read()).value ?? []).toString();
    };
    await read(/event: hello/);
    // A pause on each node (commands do not cross nodes yet): whichever node serves the stream says so at once.
    const on = (n: TestServer, what: string) =>
      fetch(n.http(`/api/canvases/${SLUG}/${what}`), { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    for (const n of nodes) expect((await on(n, 'pause')).status).toBe(200);
    await Promise.race([
      read(/event: canvas\ndata: .*"state":"paused"/),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no event in 5 s')), 5000)),
    ]);
    for (const n of nodes) expect((await on(n, 'resume')).status).toBe(200);
    controller.abort();
  });

  it('routes a display around a node that stopped', async () => {
    stopped = nodes[1]!;
    await stopped.close();
    // Displays that were on it are closed; a new one (as their reconnect would be) reaches the node left.
    const d = await watch();
    await until(() => (d.frames.length >= 3 ? true : undefined));
    expect(await displaysOn(nodes[0]!)).toBeGreaterThanOrEqual(1);
  });
});
