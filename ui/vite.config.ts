// The dashboard's build: root ui/, served under /ui/, output into dist/ui (after nest build, which empties dist/).
import preact from '@preact/preset-vite';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

export default defineConfig({
  root,
  base: '/ui/',
  plugins: [preact()],
  build: {
    outDir: '../dist/ui',
    emptyOutDir: true,
    manifest: true,
    // No inline <script>/<style>: the CSP has no 'unsafe-inline'.
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000' } },
});
