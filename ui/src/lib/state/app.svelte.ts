import type { Client } from '../api/client';
import type { DownloadState, LiveEvent, PhotoRef, Progress, Status } from '../api/types';
import type { PhotoList } from './photolist.svelte';
import { SearchState } from './search.svelte';

export type Screen = 'library' | 'search' | 'tags' | 'dupes' | 'status' | 'settings' | 'welcome';

export interface Route {
  screen: Screen;
  /** search: the query text; tags: the selected tag; dupes: the tier. */
  param: string;
}

export function parseHash(hash: string): Route {
  const h = hash.replace(/^#\/?/, '');
  const q = h.indexOf('?');
  const path = q >= 0 ? h.slice(0, q) : h;
  const params = new URLSearchParams(q >= 0 ? h.slice(q + 1) : '');
  const [head, ...rest] = path.split('/');
  const tail = decodeURIComponent(rest.join('/'));
  switch (head) {
    case 'search': return { screen: 'search', param: params.get('q') ?? tail };
    case 'tags': return { screen: 'tags', param: tail };
    case 'dupes': return { screen: 'dupes', param: tail };
    case 'status': return { screen: 'status', param: '' };
    case 'settings': return { screen: 'settings', param: '' };
    case 'welcome': return { screen: 'welcome', param: '' };
    default: return { screen: 'library', param: '' };
  }
}

export function routeHash(r: Route): string {
  switch (r.screen) {
    case 'search': return r.param ? `#/search?q=${encodeURIComponent(r.param)}` : '#/search';
    case 'tags': return r.param ? `#/tags/${encodeURIComponent(r.param)}` : '#/tags';
    case 'dupes': return r.param ? `#/dupes/${r.param}` : '#/dupes';
    case 'library': return '#/library';
    default: return `#/${r.screen}`;
  }
}

export interface Viewer {
  list: PhotoList<PhotoRef>;
  index: number;
  /** Element to give focus back to on close. */
  returnFocus?: HTMLElement | null;
}

export interface Toast {
  id: number;
  text: string;
  kind: 'info' | 'error';
}

/** Everything shared between screens. One instance, made by App. */
export class AppState {
  readonly client: Client;
  readonly search: SearchState;
  route = $state<Route>({ screen: 'library', param: '' });
  status = $state<Status | null>(null);
  /** Last progress per job kind (from status, then events). */
  progress = $state<Record<string, Progress>>({});
  paused = $state<string[]>([]);
  download = $state<DownloadState | null>(null);
  jobFailures = $state<{ kind: string; error: string; at: number }[]>([]);
  viewer = $state<Viewer | null>(null);
  toasts = $state<Toast[]>([]);
  /** Bumped on `changed` events, per topic, so screens can refetch. */
  changes = $state<Record<string, number>>({});
  connected = $state(true);
  private toastId = 0;
  private unsubscribe: (() => void) | null = null;
  private statusTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(client: Client) {
    this.client = client;
    this.search = new SearchState(client);
  }

  start() {
    this.unsubscribe = this.client.subscribe((e) => this.onEvent(e));
    return this.refreshStatus();
  }

  stop() {
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.statusTimer) clearTimeout(this.statusTimer);
  }

  async refreshStatus() {
    try {
      const s = await this.client.status();
      this.status = s;
      this.connected = true;
      const prog: Record<string, Progress> = {};
      for (const p of s.live?.progress ?? []) prog[p.kind] = p;
      this.progress = prog;
      this.paused = s.live?.paused ?? [];
      // The status knows only a download in flight. One that ended stays
      // (a failure with its reason) until the user acts: a new download
      // replaces it.
      if (s.download || this.download?.state === 'running') this.download = s.download ?? null;
    } catch (e) {
      this.connected = false;
      this.notify(e instanceof Error ? e.message : String(e), 'error');
    }
  }

  /** Refresh the status at most every 2 s while events stream in. */
  private scheduleStatus() {
    if (this.statusTimer) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = null;
      void this.refreshStatus();
    }, 2000);
  }

  onEvent(e: LiveEvent) {
    switch (e.event) {
      case 'progress': {
        const { kind, done, total, rate, eta_seconds } = e;
        this.progress = { ...this.progress, [kind]: { kind, done, total, rate, eta_seconds } };
        break;
      }
      case 'idle':
        this.progress = {};
        if (e.paused) this.paused = e.paused;
        this.scheduleStatus();
        break;
      case 'paused':
        this.paused = e.kinds ?? [];
        break;
      case 'job_failed':
        this.jobFailures = [...this.jobFailures.slice(-49), { kind: e.kind, error: e.error, at: Date.now() }];
        break;
      case 'download':
        this.download = e;
        if (e.state !== 'running') this.scheduleStatus();
        break;
      case 'changed':
        this.changes = { ...this.changes, [e.what]: (this.changes[e.what] ?? 0) + 1 };
        this.scheduleStatus();
        break;
      case 'watch':
        this.scheduleStatus();
        break;
      case 'stopped':
        this.connected = false;
        break;
    }
  }

  navigate(route: Route) {
    const hash = routeHash(route);
    this.route = route;
    if (typeof location !== 'undefined' && location.hash !== hash) {
      history.pushState(null, '', hash);
    }
  }

  openPhoto(list: PhotoList<PhotoRef>, index: number, returnFocus?: HTMLElement | null) {
    this.viewer = { list, index, returnFocus: returnFocus ?? (document.activeElement as HTMLElement | null) };
  }

  closePhoto() {
    const back = this.viewer?.returnFocus;
    this.viewer = null;
    if (back && back.isConnected) queueMicrotask(() => back.focus());
  }

  /** Pauses all background work, or resumes it when paused. */
  async togglePause() {
    try {
      const r = this.paused.length > 0 ? await this.client.jobsResume([]) : await this.client.jobsPause([]);
      this.paused = r.paused;
    } catch (e) {
      this.notify(e instanceof Error ? e.message : String(e), 'error');
    }
  }

  notify(text: string, kind: Toast['kind'] = 'info') {
    const id = ++this.toastId;
    this.toasts = [...this.toasts.slice(-3), { id, text, kind }];
    setTimeout(() => this.dismiss(id), kind === 'error' ? 8000 : 4000);
  }

  dismiss(id: number) {
    this.toasts = this.toasts.filter((t) => t.id !== id);
  }
}

/** "1,234" */
export const fmtInt = (n: number | null | undefined) => (n ?? 0).toLocaleString('en-US');

/** "1 photo", "2,000 photos": a count with its noun, singular when it is one. */
export const fmtCount = (n: number | null | undefined, noun: string, plural = `${noun}s`) =>
  `${fmtInt(n)} ${n === 1 ? noun : plural}`;

export function fmtBytes(n: number | null | undefined): string {
  if (n == null) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) { v /= 1024; u++; }
  return `${v >= 10 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}`;
}

export function fmtEta(s: number | null | undefined): string {
  if (s == null || !isFinite(s)) return 'estimating…';
  if (s < 60) return `${Math.max(1, Math.round(s))} s left`;
  if (s < 3600) return `${Math.round(s / 60)} min left`;
  const h = Math.floor(s / 3600);
  return `${h} h ${Math.round((s % 3600) / 60)} min left`;
}

/** "4 Jul 2021, 16:20" from the photo's own local time (the offset is not applied). */
export function fmtDate(iso: string | null | undefined, withTime = true): string {
  if (!iso) return 'Unknown date';
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(iso);
  if (!m) return iso;
  const mon = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][Number(m[2]) - 1];
  const d = `${Number(m[3])} ${mon} ${m[1]}`;
  return withTime && m[4] ? `${d}, ${m[4]}:${m[5]}` : d;
}

/** Where a photo's date came from, for people (`taken_at_source`). */
export function dateSourceText(source: string | null | undefined): string {
  if (!source) return 'no date recorded';
  if (source.startsWith('exif:')) return 'from EXIF';
  if (source === 'name:file') return 'from the file name';
  if (source === 'name:folder') return 'from the folder name';
  return "from the file's date";
}

export const KIND_LABEL: Record<string, string> = {
  scan: 'Scanning folders',
  ingest: 'Indexing new files',
  embed: 'Understanding photos',
  tags: 'Tagging',
  dupes: 'Finding duplicates',
};
