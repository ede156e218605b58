import { defineConfig } from 'vite';

// The Go binary serves dist/ under /playground/ (see playground.go), so every
// asset URL in the built index.html must be prefixed with that path. Monaco's
// web workers are emitted as local files next to the other assets (see
// src/workers.js); nothing is loaded from a CDN.

// Bundles print a warning per "use client" directive (framer-motion etc.);
// the directive is meaningless in a client-only bundle.
function onwarn(warning, warn) {
  if (warning.code === 'MODULE_LEVEL_DIRECTIVE') return;
  warn(warning);
}

// `npm run dev` serves the page with hot reload at
// http://localhost:5173/playground/ and proxies the API (HTTP + websocket) to
// PLAYGROUND_API (default http://127.0.0.1:8080).
const api = process.env.PLAYGROUND_API || 'http://127.0.0.1:8080';

export default defineConfig({
  base: '/playground/',
  server: {
    proxy: {
      '/graphql': { target: api, ws: true, changeOrigin: true },
    },
  },
  resolve: {
    alias: [
      // @graphiql/react imports prettier's legacy parser-* entry points, which
      // resolve to UMD copies of the same plugins imported via prettier/plugins/*;
      // point them at the ES modules so each plugin is bundled once.
      { find: /^prettier\/parser-graphql$/, replacement: 'prettier/plugins/graphql' },
      { find: /^prettier\/parser-babel$/, replacement: 'prettier/plugins/babel' },
    ],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // Monaco is large; the default 500 kB warning is expected noise here.
    chunkSizeWarningLimit: 4096,
    modulePreload: { polyfill: false },
    rolldownOptions: { onwarn },
  },
  worker: {
    format: 'es',
    rolldownOptions: { onwarn },
  },
});
