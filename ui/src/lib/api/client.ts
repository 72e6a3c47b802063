import type { EngineEvent, ImageKind, Transport } from '../transport/types';
import type * as T from './types';

/**
 * The typed API: one function per command of docs/api.md. Components use
 * this, never a transport.
 */
export function createClient(transport: Transport) {
  const call = <R>(name: string, args?: Record<string, unknown>) => transport.call<R>(name, args ?? {});
  return {
    transport,
    thumbUrl: (id: number, size = 256) => transport.imageUrl('thumb', id, size),
    previewUrl: (id: number) => transport.imageUrl('preview', id),
    imageUrl: (kind: ImageKind, id: number, size?: number) => transport.imageUrl(kind, id, size),
    subscribe: (fn: (e: T.LiveEvent) => void) => transport.subscribe(fn as (e: EngineEvent) => void),

    // Library state
    status: () => call<T.Status>('status'),
    firstRun: () => call<T.FirstRun>('first_run'),
    firstRunDone: () => call<{ needed: boolean }>('first_run_done'),
    errors: () => call<{ errors: T.ErrorEntry[] }>('errors'),
    scan: () => call<{ started: boolean }>('scan'),

    // Browsing
    timeline: (offset = 0, limit = 200, months = offset === 0) => call<T.TimelinePage>('timeline', { offset, limit, months }),
    photo: (id: number) => call<T.Photo>('photo', { id }),
    reveal: (id: number) => call<T.Reveal>('reveal', { id }),

    // Search
    search: (args: T.SearchArgs) => call<T.SearchResponse>('search', args as Record<string, unknown>),
    similar: (id: number, opts: { limit?: number; offset?: number; all?: boolean; min_score?: number | null } = {}) =>
      call<T.SearchResponse>('similar', { id, ...opts }),

    // Tags
    tags: () => call<{ tags: T.TagInfo[] }>('tags'),
    tagPhotos: (tag: string, offset = 0, limit = 200, source?: 'auto' | 'user' | 'imported') =>
      call<T.TagPhotos>('tag_photos', source ? { tag, offset, limit, source } : { tag, offset, limit }),
    tagAdd: (id: number, tag: string) => call<T.TagChange>('tag_add', { id, tag }),
    tagRemove: (id: number, tag: string) => call<T.TagChange>('tag_remove', { id, tag }),
    tagConfirm: (id: number, tag: string) => call<T.TagChange>('tag_confirm', { id, tag }),
    tagReject: (id: number, tag: string) => call<T.TagChange>('tag_reject', { id, tag }),
    customTagCreate: (args: { name: string; description?: string | null; parent?: string | null; examples?: number[] }) =>
      call<T.CustomTag>('custom_tag_create', args),
    customTagRemove: (name: string) => call<{ tag: string }>('custom_tag_remove', { name }),

    // Duplicates
    dupes: (tier: T.Tier | null = null) => call<T.Dupes>('dupes', { tier }),
    dupesResolve: (group: string, opts: { keep?: number | null; dry_run: boolean }) =>
      call<T.Resolution>('dupes_resolve', { group, keep: opts.keep ?? null, dry_run: opts.dry_run }),
    dupesResolveAll: (tier: T.Tier, dry_run: boolean) => call<T.ResolveAll>('dupes_resolve_all', { tier, dry_run }),
    dupesKeepAll: (group: string) => call<T.DupeDecision>('dupes_keep_all', { group }),
    dupesNotDuplicates: (group: string) => call<T.DupeDecision>('dupes_not_duplicates', { group }),
    dupesHistory: () => call<{ actions: T.DupeAction[] }>('dupes_history'),
    dupesUndo: (action: number) => call<{ action: number; restored: string[]; not_in_trash: string[] }>('dupes_undo', { action }),

    // Folders
    folders: () => call<{ folders: T.Folder[] }>('folders'),
    foldersAdd: (path: string, scan = true) => call<T.Folder>('folders_add', { path, scan }),
    foldersRemove: (id: number) => call<T.Folder>('folders_remove', { id }),

    // Settings
    settings: () => call<T.Settings>('settings_get'),
    settingsSet: (patch: T.SettingsPatch) => call<T.Settings>('settings_set', patch as Record<string, unknown>),
    clearPreviews: () => call<{ removed: number; bytes: number }>('settings_clear_previews'),

    // Models
    models: () => call<T.Models>('models'),
    modelDownload: (name: string, use = true) => call<{ started: boolean; name: string }>('model_download', { name, use }),
    modelDownloadCancel: () => call<{ cancelled: boolean }>('model_download_cancel'),
    modelChoose: (name: string) => call<T.ModelChoice>('model_choose', { name }),
    modelAdd: (path: string) => call<T.ModelChoice>('model_add', { path }),

    // Jobs
    jobsPause: (kinds: string[] = []) => call<{ paused: string[] }>('jobs_pause', { kinds }),
    jobsResume: (kinds: string[] = []) => call<{ paused: string[] }>('jobs_resume', { kinds }),

    // Shell-only action: open the library's data folder (Tauri); false over HTTP.
    revealLibrary: () => (transport.revealLibrary ? transport.revealLibrary() : Promise.resolve(false)),
  };
}

export type Client = ReturnType<typeof createClient>;
