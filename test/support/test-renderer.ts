import { createRenderer } from '../../server/stream/renderer.js';

/** The real renderer with quick encoder settings and no cache, for unit tests of what feeds or uses it. */
export const quickRenderer = () =>
  createRenderer({
    limitInputPixels: 1e7,
    webp: { quality: 80, effort: 0 },
    jpeg: { quality: 80 },
    avif: { quality: 50, effort: 0 },
    cacheBytes: 0,
  });
