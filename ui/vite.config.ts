import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';

// The Tauri shell loads `devUrl` (http://localhost:1420, see ../src-tauri/tauri.conf.json) in development and the
// built `dist/` otherwise, so the port is fixed and the dev server fails rather than pick another one.
export default defineConfig({
  plugins: [svelte()],
  clearScreen: false,
  server: {
    port: 1420,
    strictPort: true,
    watch: { ignored: ['**/src-tauri/**'] },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // WebKitGTK 2.4x / WKWebView / WebView2 all support ES2022.
    target: 'es2022',
    // No data: URLs: the CSP allows images from the app itself only.
    assetsInlineLimit: 0,
    sourcemap: false,
  },
});
