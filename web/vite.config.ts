/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The omw-chat server serves `dist` at `/` in demo mode; during development the dev server
// proxies the API, the demo endpoints and Socket.IO to a server on OMW_SERVER (default :5001).
const target = process.env.OMW_SERVER ?? 'http://127.0.0.1:5001';

export default defineConfig({
  base: '/',
  plugins: [react()],
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
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.{ts,tsx}'],
    restoreMocks: true,
    // jsdom and user-event are slow on a busy machine; a test's deadline is not a speed check.
    testTimeout: 60_000,
  },
});
