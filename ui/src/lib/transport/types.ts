/**
 * The one seam between the UI and Shoebox. Two implementations: HTTP (for
 * `shoebox serve`) and Tauri IPC (the desktop app). Only the typed client in
 * `lib/api/client.ts` talks to a transport.
 */
export type ImageKind = 'thumb' | 'preview';

/** A live event from the engine (see docs/api.md, "Events"). */
export interface EngineEvent {
  event: string;
  [key: string]: unknown;
}

export type EventHandler = (event: EngineEvent) => void;

export interface Transport {
  readonly kind: 'http' | 'tauri' | 'fake';
  /** Run one command; resolves with its JSON answer, rejects with ApiError. */
  call<T = unknown>(name: string, args?: Record<string, unknown>): Promise<T>;
  /** URL an <img> can load: a thumbnail (256 px) or a preview (1024 px) of a photo id. */
  imageUrl(kind: ImageKind, id: number, size?: number): string;
  /** Listen to engine events; returns a function that stops listening. */
  subscribe(onEvent: EventHandler): () => void;
  /**
   * Shell action, not a command: open the library's data folder in the OS
   * file manager. Resolves false where the shell cannot (the browser over HTTP).
   */
  revealLibrary?(): Promise<boolean>;
}

/** Every failed call rejects with this. */
export class ApiError extends Error {
  readonly code: string;
  readonly status: number;
  readonly details: unknown;
  constructor(message: string, code = 'error', status = 0, details?: unknown) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

/** Turn whatever a backend rejected with into an ApiError. */
export function toApiError(e: unknown, status = 0): ApiError {
  if (e instanceof ApiError) return e;
  if (e && typeof e === 'object') {
    const o = e as Record<string, unknown>;
    const inner = (o.error && typeof o.error === 'object' ? o.error : o) as Record<string, unknown>;
    const message =
      (typeof inner.message === 'string' && inner.message) ||
      (typeof o.error === 'string' && o.error) ||
      (e instanceof Error && e.message) ||
      'Request failed';
    const code =
      (typeof inner.code === 'string' && inner.code) ||
      (typeof inner.kind === 'string' && inner.kind) ||
      'error';
    return new ApiError(message, code, status, e);
  }
  return new ApiError(typeof e === 'string' ? e : 'Request failed', 'error', status, e);
}
