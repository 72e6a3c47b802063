import { ApiError, toApiError, type EngineEvent, type EventHandler, type ImageKind, type Transport } from './types';

const TOKEN_KEY = 'shoebox.token';

/**
 * The token `shoebox serve` printed in its URL (`?token=...`), remembered for
 * the tab so that a reload of a URL without it still works.
 */
export function readToken(loc: Pick<Location, 'search' | 'hash'> = window.location, storage: Storage | null = safeSession()): string | null {
  let token = new URLSearchParams(loc.search).get('token');
  if (!token) {
    // A token inside the hash route (#/library?token=...) also counts.
    const q = loc.hash.indexOf('?');
    if (q >= 0) token = new URLSearchParams(loc.hash.slice(q + 1)).get('token');
  }
  if (token) {
    try { storage?.setItem(TOKEN_KEY, token); } catch { /* private mode */ }
    return token;
  }
  try { return storage?.getItem(TOKEN_KEY) ?? null; } catch { return null; }
}

function safeSession(): Storage | null {
  try { return typeof sessionStorage === 'undefined' ? null : sessionStorage; } catch { return null; }
}

export interface HttpTransportOptions {
  /** Origin + path prefix of the server; '' = the page's own origin. */
  base?: string;
  token?: string | null;
  fetch?: typeof fetch;
  EventSource?: typeof EventSource;
}

/** `shoebox serve`: `POST /api/<name>` with a JSON body, Bearer token. */
export class HttpTransport implements Transport {
  readonly kind = 'http' as const;
  readonly base: string;
  readonly token: string | null;
  private readonly fetchImpl: typeof fetch;
  private readonly EventSourceImpl: typeof EventSource | undefined;

  constructor(opts: HttpTransportOptions = {}) {
    this.base = (opts.base ?? '').replace(/\/$/, '');
    this.token = opts.token !== undefined ? opts.token : readToken();
    this.fetchImpl = opts.fetch ?? ((input, init) => fetch(input, init));
    this.EventSourceImpl = opts.EventSource ?? (typeof EventSource === 'undefined' ? undefined : EventSource);
  }

  async call<T>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json', Accept: 'application/json' };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let res: Response;
    try {
      res = await this.fetchImpl(`${this.base}/api/${encodeURIComponent(name)}`, {
        method: 'POST',
        headers,
        body: JSON.stringify(args),
        credentials: 'same-origin',
      });
    } catch (e) {
      throw new ApiError(`Cannot reach Shoebox (${e instanceof Error ? e.message : String(e)})`, 'network', 0, e);
    }
    const text = await res.text();
    let body: unknown = undefined;
    if (text) {
      try { body = JSON.parse(text); } catch { body = text; }
    }
    if (!res.ok) {
      if (res.status === 401) {
        throw new ApiError('Not authorised: open the URL that `shoebox serve` printed (it carries ?token=).', 'unauthorized', 401, body);
      }
      throw toApiError(body ?? res.statusText, res.status);
    }
    return body as T;
  }

  imageUrl(kind: ImageKind, id: number, size?: number): string {
    const path = kind === 'thumb' ? `/thumb/${id}?size=${size ?? 256}` : `/preview/${id}${size ? `?size=${size}` : ''}`;
    return this.base + path;
  }

  subscribe(onEvent: EventHandler): () => void {
    const ES = this.EventSourceImpl;
    if (!ES) return () => {};
    const url = `${this.base}/api/events${this.token ? `?token=${encodeURIComponent(this.token)}` : ''}`;
    const source = new ES(url, { withCredentials: true });
    const handle = (msg: MessageEvent) => {
      try {
        const data = JSON.parse(String(msg.data)) as EngineEvent;
        if (data && typeof data === 'object') {
          // A named SSE event (`event: progress`) carries its name in msg.type.
          if (!data.event && msg.type && msg.type !== 'message') data.event = msg.type;
          onEvent(data);
        }
      } catch { /* keep-alive or malformed line */ }
    };
    source.onmessage = handle;
    for (const name of NAMED_EVENTS) source.addEventListener(name, handle as EventListener);
    return () => source.close();
  }
}

/** SSE event names the server may use besides the default `message`. */
const NAMED_EVENTS = ['progress', 'job_failed', 'idle', 'paused', 'resumed', 'watch', 'changed', 'stopped', 'download', 'scan', 'status'];
