import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/**
 * The display pages and the operator console. `vite build --config display/vite.config.ts`
 * writes display/dist/, which the Node server serves at /c/:slug, /wall, /operator, /gallery
 * and /assets/*. `vite --config display/vite.config.ts` is the dev server: the same URLs, with /ws
 * and the API proxied to a running Easel server (EASEL_URL, default http://localhost:8000).
 */
const root = fileURLToPath(new URL('.', import.meta.url));
const easel = process.env.EASEL_URL ?? 'http://localhost:8000';

/** In dev, /c/<slug>, /wall and /operator are the same HTML pages the server serves in production. */
function displayPageUrls(): Plugin {
  return {
    name: 'easel-display-page-urls',
    configureServer(server) {
      server.middlewares.use((req, _res, next) => {
        const [pathname = '', query] = (req.url ?? '').split('?', 2);
        const suffix = query ? `?${query}` : '';
        if (/^\/c\/[^/]+\/?$/.test(pathname)) req.url = `/c.html${suffix}`;
        else if (pathname === '/wall' || pathname === '/wall/') req.url = `/wall.html${suffix}`;
        else if (pathname === '/operator' || pathname === '/operator/') req.url = `/operator.html${suffix}`;
        else if (pathname === '/gallery' || pathname === '/gallery/') req.url = `/gallery.html${suffix}`;
        next();
      });
    },
  };
}

export default defineConfig(({ command }) => ({
  root,
  base: '/',
  publicDir: false,
  plugins: [displayPageUrls()],
  resolve: {
    // A build is always the production one (Lit without its dev-mode warning), even when run
    // from a process whose NODE_ENV says otherwise (vitest sets "test").
    ...(command === 'build' ? { conditions: ['module', 'browser', 'production'] } : {}),
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    rolldownOptions: {
      input: { c: `${root}c.html`, wall: `${root}wall.html`, operator: `${root}operator.html`, gallery: `${root}gallery.html` },
    },
  },
  server: {
    proxy: {
      '^/ws/': { target: easel, ws: true },
      '/api': easel,
      '/healthz': easel,
      '/readyz': easel,
    },
  },
}));
