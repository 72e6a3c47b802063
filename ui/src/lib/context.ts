import { getContext, setContext } from 'svelte';
import type { AppState } from './state/app.svelte';

const KEY = Symbol.for('shoebox.app');

export function provideApp(app: AppState) {
  setContext(KEY, app);
}

export function useApp(): AppState {
  const app = getContext<AppState | undefined>(KEY);
  if (!app) throw new Error('AppState missing: render inside <App> or pass it as context');
  return app;
}

export const APP_CONTEXT_KEY = KEY;
