import { putImage, solidPng } from '../support/images.js';
import { startTestServer, tempFolder, type TestServer } from '../support/server.js';

/** One image of a test canvas: a solid colour, so the screen's pixels say which frame is shown, or given bytes. */
export interface SolidImage {
  name: string;
  colour?: string;
  width?: number;
  height?: number;
  /** The encoded image itself, instead of a solid colour. */
  data?: Buffer;
}

export interface TestCanvas {
  slug: string;
  images: SolidImage[];
  fps?: number;
  /** The canvas box (largest rendition); 1024 when left out. */
  size?: number;
  fit?: string;
  /** A tiled wall's grid (canvases[].tiles). */
  tiles?: Record<string, number>;
}

export interface DisplayServer extends TestServer {
  /** Removes the image folders too. */
  close(): Promise<void>;
}

/**
 * The real server on an ephemeral loopback port (or `port`, to restart on the same one), with
 * a folder of solid-colour images per canvas. Every image's mtime is a minute old, so the first
 * frame comes at once.
 */
export async function startDisplayServer(
  canvases: TestCanvas[],
  options: { port?: number; env?: Record<string, string> } = {},
): Promise<DisplayServer> {
  const folders = canvases.map(() => tempFolder('easel-browser-'));
  await Promise.all(
    canvases.flatMap((canvas, i) =>
      canvas.images.map(async (img) =>
        putImage(folders[i]!.dir, img.name, img.data ?? (await solidPng(img.colour ?? '#808080', img.width ?? 256, img.height ?? 256))),
      ),
    ),
  );
  const declared = canvases.map((c, i) => ({
    slug: c.slug,
    source: { path: folders[i]!.dir },
    ...(c.fps !== undefined ? { fps: c.fps } : {}),
    ...(c.size !== undefined ? { width: c.size, height: c.size } : {}),
    ...(c.fit !== undefined ? { fit: c.fit } : {}),
    ...(c.tiles !== undefined ? { tiles: c.tiles } : {}),
  }));
  const server = await startTestServer({
    EASEL_CANVASES: JSON.stringify(declared),
    EASEL_CREATE_CANVASES_ON_CONNECT: 'false',
    EASEL_LOG_LEVEL: 'warn',
    ...(options.port !== undefined ? { EASEL_PORT: String(options.port) } : {}),
    ...options.env,
  });
  return {
    ...server,
    async close() {
      await server.close();
      for (const f of folders) f.remove();
    },
  };
}
