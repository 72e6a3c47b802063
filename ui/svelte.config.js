import { vitePreprocess } from '@sveltejs/vite-plugin-svelte';

export default {
  preprocess: vitePreprocess(),
  compilerOptions: {
    // Styles go to CSS files, never to <style> tags injected at runtime,
    // so the UI runs under `style-src 'self'`.
    css: 'external',
  },
};
