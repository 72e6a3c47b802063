import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearMocks, mockConvertFileSrc, mockIPC } from '@tauri-apps/api/mocks';
import { emit } from '@tauri-apps/api/event';
import { ApiError, createTransport, HttpTransport, isTauri, readToken, TauriTransport } from '../lib/transport';

afterEach(() => {
  clearMocks();
  sessionStorage.clear();
  delete (window as any).__TAURI_INTERNALS__;
});

describe('transport selection', () => {
  it('uses HTTP in a plain browser and Tauri when __TAURI_INTERNALS__ exists', () => {
    expect(isTauri({})).toBe(false);
    expect(isTauri({ __TAURI_INTERNALS__: {} })).toBe(true);
    expect(createTransport({})).toBeInstanceOf(HttpTransport);
    expect(createTransport({ __TAURI_INTERNALS__: {} })).toBeInstanceOf(TauriTransport);
  });

  it('picks Tauri from the real window once mocked', () => {
    expect(createTransport().kind).toBe('http');
    mockIPC(() => null);
    expect(createTransport().kind).toBe('tauri');
  });
});

describe('token', () => {
  it('comes from ?token= and is remembered for the tab', () => {
    expect(readToken({ search: '?token=abc', hash: '' }, sessionStorage)).toBe('abc');
    expect(readToken({ search: '', hash: '#/library' }, sessionStorage)).toBe('abc');
  });
  it('is read from the hash route too, and is null when absent', () => {
    expect(readToken({ search: '', hash: '#/search?q=x&token=zz' }, sessionStorage)).toBe('zz');
    sessionStorage.clear();
    expect(readToken({ search: '', hash: '' }, sessionStorage)).toBeNull();
  });
});

function fakeFetch(status: number, body: unknown) {
  return vi.fn(async (_url: string, _init?: RequestInit) => new Response(body === undefined ? '' : JSON.stringify(body), { status }));
}

describe('HttpTransport', () => {
  it('POSTs JSON to /api/<name> with the Bearer token', async () => {
    const f = fakeFetch(200, { photos: 3 });
    const t = new HttpTransport({ token: 'tok', fetch: f as unknown as typeof fetch });
    await expect(t.call('status')).resolves.toEqual({ photos: 3 });
    await t.call('search', { q: 'dog', limit: 5 });
    const [url, init] = f.mock.calls[1];
    expect(url).toBe('/api/search');
    expect(init!.method).toBe('POST');
    expect((init!.headers as Record<string, string>).Authorization).toBe('Bearer tok');
    expect((init!.headers as Record<string, string>)['Content-Type']).toBe('application/json');
    expect(JSON.parse(init!.body as string)).toEqual({ q: 'dog', limit: 5 });
    expect(JSON.parse(f.mock.calls[0][1]!.body as string)).toEqual({});
  });

  it('sends no Authorization header without a token', async () => {
    const f = fakeFetch(200, {});
    await new HttpTransport({ token: null, fetch: f as unknown as typeof fetch }).call('status');
    expect((f.mock.calls[0][1]!.headers as Record<string, string>).Authorization).toBeUndefined();
  });

  it('turns {"error": {code, message}} into ApiError', async () => {
    const t = new HttpTransport({ token: 't', fetch: fakeFetch(400, { error: { code: 'bad_query', message: 'unknown filter colour' } }) as any });
    const err = (await t.call('search', { q: 'colour:red' }).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('bad_query');
    expect(err.status).toBe(400);
    expect(err.message).toBe('unknown filter colour');
  });

  it('explains a 401 and a network failure', async () => {
    const e401 = (await new HttpTransport({ token: 'bad', fetch: fakeFetch(401, { error: { code: 'unauthorized', message: 'x' } }) as any })
      .call('status')
      .catch((e) => e)) as ApiError;
    expect(e401.code).toBe('unauthorized');
    expect(e401.message).toMatch(/token/);
    const down = (await new HttpTransport({ token: 't', fetch: (async () => { throw new TypeError('Failed to fetch'); }) as any })
      .call('status')
      .catch((e) => e)) as ApiError;
    expect(down.code).toBe('network');
  });

  it('builds image URLs by photo id', () => {
    const t = new HttpTransport({ token: 't', fetch: fakeFetch(200, {}) as any });
    expect(t.imageUrl('thumb', 17, 256)).toBe('/thumb/17?size=256');
    expect(t.imageUrl('thumb', 17)).toBe('/thumb/17?size=256');
    expect(t.imageUrl('preview', 17)).toBe('/preview/17');
  });

  it('reads events from EventSource /api/events and closes it', () => {
    const instances: any[] = [];
    class FakeES {
      url: string;
      onmessage: ((m: MessageEvent) => void) | null = null;
      closed = false;
      listeners: Record<string, (m: MessageEvent) => void> = {};
      constructor(url: string) {
        this.url = url;
        instances.push(this);
      }
      addEventListener(name: string, fn: any) {
        this.listeners[name] = fn;
      }
      close() {
        this.closed = true;
      }
    }
    const t = new HttpTransport({ token: 'tok', fetch: fakeFetch(200, {}) as any, EventSource: FakeES as any });
    const got: unknown[] = [];
    const stop = t.subscribe((e) => got.push(e));
    expect(instances[0].url).toBe('/api/events?token=tok');
    instances[0].onmessage({ data: '{"event":"progress","kind":"scan","done":1,"total":2}', type: 'message' });
    instances[0].onmessage({ data: 'not json', type: 'message' });
    expect(got).toEqual([{ event: 'progress', kind: 'scan', done: 1, total: 2 }]);
    stop();
    expect(instances[0].closed).toBe(true);
  });
});

describe('TauriTransport (mockIPC)', () => {
  it('invokes the command with its args', async () => {
    const seen: unknown[] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      if (cmd === 'photo') return { id: (args as any).id, width: 1 };
    });
    const t = new TauriTransport();
    await expect(t.call('photo', { id: 5 })).resolves.toEqual({ id: 5, width: 1 });
    expect(seen).toEqual([['photo', { id: 5 }]]);
  });

  it('maps a rejected {"error": {code, message}} to ApiError', async () => {
    mockIPC(() => {
      throw { error: { code: 'not_found', message: 'no photo matches 999' } };
    });
    const err = (await new TauriTransport().call('photo', { id: 999 }).catch((e) => e)) as ApiError;
    expect(err).toBeInstanceOf(ApiError);
    expect(err.code).toBe('not_found');
    expect(err.message).toBe('no photo matches 999');
  });

  it('listens to shoebox://event', async () => {
    mockIPC(() => null, { shouldMockEvents: true });
    const t = new TauriTransport();
    const got: unknown[] = [];
    const stop = t.subscribe((e) => got.push(e));
    await new Promise((r) => setTimeout(r, 0));
    await emit('shoebox://event', { event: 'idle', paused: [] });
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toEqual([{ event: 'idle', paused: [] }]);
    stop();
    await emit('shoebox://event', { event: 'idle', paused: [] });
    await new Promise((r) => setTimeout(r, 0));
    expect(got).toHaveLength(1);
  });

  it('uses shoebox://thumb/<id> (http://shoebox.localhost on Windows)', () => {
    mockIPC(() => null);
    mockConvertFileSrc('linux');
    const t = new TauriTransport();
    expect(t.imageUrl('thumb', 17, 256)).toBe('shoebox://thumb/17?size=256');
    expect(t.imageUrl('preview', 17)).toBe('shoebox://preview/17');
    mockConvertFileSrc('windows');
    expect(new TauriTransport().imageUrl('thumb', 3)).toBe('http://shoebox.localhost/thumb/3?size=256');
  });

  it('opens the library folder through the shell command, not a webview capability', async () => {
    const seen: unknown[] = [];
    mockIPC((cmd, args) => {
      seen.push([cmd, args]);
      return { path: '/lib', revealed: true };
    });
    await expect(new TauriTransport().revealLibrary()).resolves.toBe(true);
    expect(seen).toEqual([['reveal_library', {}]]);
  });
});
