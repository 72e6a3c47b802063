import { render } from '@testing-library/svelte';
import type { Component } from 'svelte';
import { createClient } from '../lib/api/client';
import type { PhotoRef, Status } from '../lib/api/types';
import { APP_CONTEXT_KEY } from '../lib/context';
import { AppState } from '../lib/state/app.svelte';
import { ApiError, type EngineEvent, type EventHandler, type Transport } from '../lib/transport/types';

export type Handler = (args: Record<string, any>) => unknown;

/** A transport whose commands are plain functions; records every call. */
export class FakeTransport implements Transport {
  readonly kind = 'fake' as const;
  calls: { name: string; args: Record<string, any> }[] = [];
  handlers: Record<string, Handler>;
  private listeners = new Set<EventHandler>();

  constructor(handlers: Record<string, Handler> = {}) {
    this.handlers = { status: () => status(), first_run: () => ({ needed: false }), ...handlers };
  }

  async call<T>(name: string, args: Record<string, unknown> = {}): Promise<T> {
    this.calls.push({ name, args: JSON.parse(JSON.stringify(args)) });
    const h = this.handlers[name];
    if (!h) throw new ApiError(`no fake for ${name}`, 'unknown_command', 404);
    return (await h(args as Record<string, any>)) as T;
  }

  imageUrl(kind: 'thumb' | 'preview', id: number, size?: number) {
    return `/${kind}/${id}${size ? `?size=${size}` : ''}`;
  }

  subscribe(fn: EventHandler) {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  emit(e: EngineEvent) {
    for (const l of this.listeners) l(e);
  }

  named(name: string) {
    return this.calls.filter((c) => c.name === name);
  }
}

export function status(over: Partial<Status> = {}): Status {
  return {
    library: '/home/me/.local/share/shoebox',
    photos: 10, files: 10, errors: 0, warnings: 0, offline: 0, pending: 0, embedded: 10, pending_embeddings: 0,
    model: 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K', folders: 1, offline_folders: 0,
    roots: [{ id: 1, path: '/home/me/Pictures', online: true, last_scan_at: null }],
    live: { running: true, paused: [], queued_paths: 0, progress: [], jobs: [], watch: [] },
    download: null,
    ...over,
  };
}

export function photoRefs(n: number, from = 0): PhotoRef[] {
  return Array.from({ length: n }, (_, k) => ({ id: from + k + 1, width: 4000, height: 3000, taken_at: '2024-05-01T10:00:00+02:00' }));
}

export function makeApp(handlers: Record<string, Handler> = {}) {
  const transport = new FakeTransport(handlers);
  const app = new AppState(createClient(transport));
  return { app, transport };
}

export function renderWith<P extends Record<string, any>>(component: Component<P>, app: AppState, props?: P) {
  return render(component as Component<any>, { props: props ?? {}, context: new Map([[APP_CONTEXT_KEY, app]]) });
}

/** Let pending promises and Svelte effects settle. */
export async function flush(times = 3) {
  for (let i = 0; i < times; i++) await new Promise((r) => setTimeout(r, 0));
}
