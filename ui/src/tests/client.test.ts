import { describe, expect, it } from 'vitest';
import { createClient } from '../lib/api/client';
import { FakeTransport } from '../test/fake';

describe('typed client', () => {
  it('maps each function to its command and arguments (docs/api.md)', async () => {
    const t = new FakeTransport();
    t.handlers = new Proxy({}, { get: () => () => ({}) }) as any;
    const c = createClient(t);
    const cases: [() => Promise<unknown>, string, Record<string, unknown>][] = [
      [() => c.status(), 'status', {}],
      [() => c.firstRun(), 'first_run', {}],
      [() => c.firstRunDone(), 'first_run_done', {}],
      [() => c.errors(), 'errors', {}],
      [() => c.scan(), 'scan', {}],
      [() => c.timeline(), 'timeline', { offset: 0, limit: 200, months: true }],
      [() => c.timeline(500, 500), 'timeline', { offset: 500, limit: 500, months: false }],
      [() => c.photo(9), 'photo', { id: 9 }],
      [() => c.reveal(9), 'reveal', { id: 9 }],
      [() => c.search({ q: 'dog', limit: 50 }), 'search', { q: 'dog', limit: 50 }],
      [() => c.similar(9, { limit: 10 }), 'similar', { id: 9, limit: 10 }],
      [() => c.tags(), 'tags', {}],
      [() => c.tagPhotos('dog', 0, 100), 'tag_photos', { tag: 'dog', offset: 0, limit: 100 }],
      [() => c.tagAdd(1, 'dog'), 'tag_add', { id: 1, tag: 'dog' }],
      [() => c.tagRemove(1, 'dog'), 'tag_remove', { id: 1, tag: 'dog' }],
      [() => c.tagConfirm(1, 'dog'), 'tag_confirm', { id: 1, tag: 'dog' }],
      [() => c.tagReject(1, 'dog'), 'tag_reject', { id: 1, tag: 'dog' }],
      [() => c.customTagCreate({ name: 'van', examples: [1] }), 'custom_tag_create', { name: 'van', examples: [1] }],
      [() => c.customTagRemove('van'), 'custom_tag_remove', { name: 'van' }],
      [() => c.dupes('near'), 'dupes', { tier: 'near' }],
      [() => c.dupesResolve('g1', { dry_run: true }), 'dupes_resolve', { group: 'g1', keep: null, dry_run: true }],
      [() => c.dupesResolve('g1', { keep: 4, dry_run: false }), 'dupes_resolve', { group: 'g1', keep: 4, dry_run: false }],
      [() => c.dupesResolveAll('near', true), 'dupes_resolve_all', { tier: 'near', dry_run: true }],
      [() => c.dupesKeepAll('g1'), 'dupes_keep_all', { group: 'g1' }],
      [() => c.dupesNotDuplicates('g1'), 'dupes_not_duplicates', { group: 'g1' }],
      [() => c.dupesHistory(), 'dupes_history', {}],
      [() => c.dupesUndo(3), 'dupes_undo', { action: 3 }],
      [() => c.folders(), 'folders', {}],
      [() => c.foldersAdd('/p'), 'folders_add', { path: '/p', scan: true }],
      [() => c.foldersRemove(1), 'folders_remove', { id: 1 }],
      [() => c.settings(), 'settings_get', {}],
      [() => c.settingsSet({ xmp: { write_on_change: true } }), 'settings_set', { xmp: { write_on_change: true } }],
      [() => c.clearPreviews(), 'settings_clear_previews', {}],
      [() => c.models(), 'models', {}],
      [() => c.modelDownload('m'), 'model_download', { name: 'm', use: true }],
      [() => c.modelDownloadCancel(), 'model_download_cancel', {}],
      [() => c.modelChoose('m'), 'model_choose', { name: 'm' }],
      [() => c.modelAdd('/models/x'), 'model_add', { path: '/models/x' }],
      [() => c.jobsPause(), 'jobs_pause', { kinds: [] }],
      [() => c.jobsResume(['embed']), 'jobs_resume', { kinds: ['embed'] }],
    ];
    for (const [fn, name, args] of cases) {
      t.calls = [];
      await fn();
      expect(t.calls, name).toEqual([{ name, args }]);
    }
  });

  it('gives image URLs through the transport and reveal falls back to false', async () => {
    const c = createClient(new FakeTransport());
    expect(c.thumbUrl(4)).toBe('/thumb/4?size=256');
    expect(c.previewUrl(4)).toBe('/preview/4');
    await expect(c.revealLibrary()).resolves.toBe(false);
  });
});
