import { HttpTransport } from './http';
import { TauriTransport } from './tauri';
import type { Transport } from './types';

export * from './types';
export { HttpTransport, readToken } from './http';
export { TauriTransport } from './tauri';

/** True inside the Tauri webview (Tauri 2 defines `__TAURI_INTERNALS__`). */
export function isTauri(w: unknown = typeof window === 'undefined' ? undefined : window): boolean {
  return !!w && typeof w === 'object' && '__TAURI_INTERNALS__' in (w as object) && !!(w as Record<string, unknown>).__TAURI_INTERNALS__;
}

export function createTransport(w?: unknown): Transport {
  return isTauri(w ?? (typeof window === 'undefined' ? undefined : window)) ? new TauriTransport() : new HttpTransport();
}
