/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { svelteTesting } from '@testing-library/svelte/vite';

// The built UI must run under a strict CSP (`default-src 'self'`): no inline
// scripts, no inline styles, no remote content. Vite emits one module script
// tag with a src and CSS files; the module preload polyfill (an inline
// script in some setups) is turned off.
export default defineConfig({
  plugins: [svelte(), svelteTesting()],
  // Absolute asset paths: `shoebox serve` answers index.html for unknown
  // paths, so relative ones would break on a deep URL.
  base: '/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    reportCompressedSize: true,
  },
  server: { port: 5173, strictPort: true },
  test: {
    environment: 'jsdom',
    setupFiles: ['./src/test/setup.ts'],
    include: ['src/**/*.test.ts'],
    pool: 'threads',
    maxWorkers: 2,
  },
});
