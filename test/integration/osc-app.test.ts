import { Client } from 'node-osc';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startDevInferenceService, type DevInferenceService } from '../../tools/inference-dev.js';
import { DisplayClient } from '../support/display-client.js';
import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

let dev: DevInferenceService;
let server: TestServer;
let folder: ReturnType<typeof tempFolder>;
let osc: Client;

beforeAll(async () => {
  dev = await startDevInferenceService({ latencyMs: 40 });
  folder = tempFolder();
  putImage(folder.dir, 'a.png', await solidPng('#ff0000'));
  putImage(folder.dir, 'b.png', await solidPng('#0000ff'));
  server = await startTestServer({
    EASEL_FOLDER: folder.dir,
    EASEL_FALLBACK_FOLDER: folder.dir,
    EASEL_INFERENCE_ENDPOINTS: dev.address,
    EASEL_INFERENCE_WIDTH: '128',
    EASEL_INFERENCE_HEIGHT: '128',
    EASEL_OSC_ENABLED: 'true',
    EASEL_OSC_HOST: '127.0.0.1',
    EASEL_OSC_PORT: '0',
    EASEL_CANVASES: JSON.stringify([{ slug: 'stage', source: { type: 'folder' } }]),
  });
  osc = new Client('127.0.0.1', server.server.oscPort!);
});

afterAll(async () => {
  await osc.close();
  await server.close();
  await dev.close({ force: true });
  folder.remove();
});

describe('OSC on a running server', () => {
  it('changes a canvas prompt from a message over real UDP', async () => {
    const display = new DisplayClient(server.ws('stage'));
    await display.opened;
    await osc.send('/easel/stage/prompt', 'a red boat at dusk');
    await vi.waitFor(() => expect(display.frames.at(-1)?.header).toMatchObject({ source: 'inference', prompt: 'a red boat at dusk' }), {
      timeout: 5000,
    });
    expect(dev.stats.recent.some((r) => r.prompt === 'a red boat at dusk')).toBe(true);
    display.close();
  });

  it('pauses and resumes a canvas', async () => {
    await osc.send('/easel/stage/pause');
    await vi.waitFor(() => expect(server.server.registry.get('stage')!.snapshot().state).toBe('paused'), { timeout: 5000 });
    await osc.send('/easel/stage/resume');
    await vi.waitFor(() => expect(server.server.registry.get('stage')!.snapshot().state).not.toBe('paused'), { timeout: 5000 });
  });
});
