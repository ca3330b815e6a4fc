/// <reference types="vitest/config" />
import { defaultClientConditions, defaultServerConditions, defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The omw-chat server serves `dist` at `/` in demo mode; during development the dev server
// proxies the API, the demo endpoints and Socket.IO to a server on OMW_SERVER (default :5001).
const target = process.env.OMW_SERVER ?? 'http://127.0.0.1:5001';

// The demo imports `@omw-chat/client` and `@omw-chat/react` through the npm workspace
// (node_modules/@omw-chat/* link to packages/*). Their `exports` name the sources under this
// condition, so the demo, Vitest and `tsc` use them without building the packages first; an
// app that installs the published packages gets `dist/` (see web/README.md).
const SOURCE = 'omw-chat:source';

export default defineConfig({
  base: '/',
  plugins: [react()],
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions] } },
  server: {
    proxy: {
      '/api': { target, changeOrigin: true },
      '/demo/api': { target, changeOrigin: true },
      '/socket.io': { target, ws: true, changeOrigin: true },
    },
  },
  build: {
    outDir: 'dist',
    sourcemap: false,
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: 'jsdom',
    setupFiles: ['./test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}', 'packages/*/src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    // MUI and Emotion through Vite too, so that the components' Emotion (the right-to-left
    // cache) and MUI's are one instance, as in a browser bundle (Node would load a second one).
    server: { deps: { inline: [/@mui\//, /@emotion\//] } },
    // jsdom and user-event are slow on a busy machine; a test's deadline is not a speed check.
    testTimeout: 60_000,
  },
});
