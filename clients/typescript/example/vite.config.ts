import { defineConfig } from 'vite';

export default defineConfig({
  // Relative asset URLs: the built page works from any path or static server.
  base: './',
  // The kit is linked from ..; its imports of these must be the page's own
  // copies, or two Apollo Clients (and two graphql modules) end up in the bundle.
  resolve: { dedupe: ['@apollo/client', 'graphql', 'graphql-ws', 'react', 'react-dom', 'rxjs'] },
  oxc: { jsx: { runtime: 'automatic' } },
  build: { outDir: 'dist', emptyOutDir: true, chunkSizeWarningLimit: 1024 },
});
