import { convertFileSrc, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { toApiError, type EngineEvent, type EventHandler, type ImageKind, type Transport } from './types';

export const EVENT_NAME = 'shoebox://event';
export const PROTOCOL = 'shoebox';

/** The desktop app: Tauri commands, `shoebox://event`, images over `shoebox://`. */
export class TauriTransport implements Transport {
  readonly kind = 'tauri' as const;
  private protocolBase: string | null = null;

  async call<T>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    try {
      return await invoke<T>(name, args);
    } catch (e) {
      throw toApiError(e);
    }
  }

  imageUrl(kind: ImageKind, id: number, size?: number): string {
    if (this.protocolBase === null) {
      // docs/api.md: `shoebox://thumb/<id>?size=256`. Windows webviews cannot
      // load custom schemes and use `http://shoebox.localhost/` instead;
      // convertFileSrc tells which platform this is.
      const probe = convertFileSrc('', PROTOCOL);
      this.protocolBase = probe.startsWith('http') ? `http://${PROTOCOL}.localhost/` : `${PROTOCOL}://`;
    }
    const query = kind === 'thumb' ? `?size=${size ?? 256}` : size ? `?size=${size}` : '';
    return `${this.protocolBase}${kind}/${id}${query}`;
  }

  /**
   * The shell's own `reveal_library` command. The webview gets no opener
   * capability: revealing any path it names would be broader than needed.
   */
  async revealLibrary(): Promise<boolean> {
    try {
      const r = await invoke<{ revealed?: boolean }>('reveal_library', {});
      return !!r?.revealed;
    } catch {
      return false;
    }
  }

  subscribe(onEvent: EventHandler): () => void {
    let stopped = false;
    let unlisten: (() => void) | null = null;
    listen<EngineEvent>(EVENT_NAME, (e) => {
      if (!stopped && e.payload && typeof e.payload === 'object') onEvent(e.payload);
    }).then(
      (fn) => {
        if (stopped) fn();
        else unlisten = fn;
      },
      () => { /* no event bus: nothing to listen to */ },
    );
    return () => {
      stopped = true;
      unlisten?.();
    };
  }
}
