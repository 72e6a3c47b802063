import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import PhotoView from '../components/PhotoView.svelte';
import { flush, makeApp, photoRefs, renderWith } from '../test/fake';
import { PhotoList } from '../lib/state/photolist.svelte';
import type { Photo, PhotoTag } from '../lib/api/types';

function photo(id: number, tags: PhotoTag[] = []): Photo {
  return {
    id, hash: 'h', width: 4032, height: 3024, format: 'jpeg', taken_at: '2021-07-04T16:20:00+02:00', taken_at_source: 'exif:DateTimeOriginal',
    camera_make: 'Google', camera_model: 'Pixel 7', lens: 'Pixel 7 back camera', gps: { lat: 41.9, lon: 12.5 }, place: null, orientation: 1,
    bytes: 3481920, offline: false, files: [{ path: `/p/${id}.jpg`, bytes: 3481920, online: true }], paths: [`/p/${id}.jpg`], tags, rejected: [],
  };
}

function setup() {
  const tags: Record<number, PhotoTag[]> = { 2: [{ tag: 'beach', name: 'beach', score: 0.291, source: 'auto' }, { tag: 'van', name: 'Our van', score: null, source: 'user' }] };
  const { app, transport } = makeApp({
    photo: (a) => photo(a.id, tags[a.id] ?? []),
    tag_add: (a) => ({ id: a.id, tag: a.tag, action: 'add', was_on: false, tags: [...(tags[a.id] ?? []), { tag: a.tag, name: a.tag, score: null, source: 'user' }] }),
    tag_confirm: (a) => ({ id: a.id, tag: a.tag, action: 'confirm', was_on: true, tags: (tags[a.id] ?? []).map((t) => (t.tag === a.tag ? { ...t, source: 'user', score: null } : t)) }),
    tag_reject: (a) => ({ id: a.id, tag: a.tag, action: 'reject', was_on: true, tags: (tags[a.id] ?? []).filter((t) => t.tag !== a.tag) }),
    tag_remove: (a) => ({ id: a.id, tag: a.tag, action: 'remove', was_on: true, tags: (tags[a.id] ?? []).filter((t) => t.tag !== a.tag) }),
    tags: () => ({ tags: [] }),
    reveal: (a) => ({ id: a.id, path: `/p/${a.id}.jpg`, folder: '/p', online: true }),
    similar: () => ({ query: { text: '', negative: [], filters: { like: 2 } }, chips: [], query_text: 'like:2', results: [], total: 0, candidates: 0, cutoff: null, more: false, sort: 'relevance', offset: 0, limit: 100 }),
  });
  const list = new PhotoList(async () => ({ total: 3, photos: photoRefs(3) }));
  list.seed(3, [{ key: 'x', label: '', start: 0, count: 3 }], photoRefs(3));
  app.openPhoto(list, 1, null);
  renderWith(PhotoView, app);
  return { app, transport };
}

describe('photo view', () => {
  it('shows the preview and metadata', async () => {
    setup();
    const dialog = await screen.findByRole('dialog', { name: 'Photo 2 of 3' });
    expect(screen.getByTestId('preview')).toHaveAttribute('src', '/preview/2');
    await waitFor(() => expect(dialog).toHaveTextContent('Google Pixel 7'));
    expect(dialog).toHaveTextContent('Pixel 7 back camera');
    expect(dialog).toHaveTextContent('4032 × 3024');
    expect(dialog).toHaveTextContent('3.3 MB');
    expect(dialog).toHaveTextContent('/p/2.jpg');
    expect(dialog).toHaveTextContent('41.90000, 12.50000');
    expect(dialog).toHaveTextContent('4 Jul 2021, 16:20');
  });

  it('← and → move between photos, Esc closes', async () => {
    const { app, transport } = setup();
    const dialog = await screen.findByRole('dialog');
    await fireEvent.keyDown(dialog, { key: 'ArrowRight' });
    await flush();
    expect(app.viewer?.index).toBe(2);
    expect(screen.getByTestId('preview')).toHaveAttribute('src', '/preview/3');
    await fireEvent.keyDown(dialog, { key: 'ArrowRight' }); // last photo: stays
    expect(app.viewer?.index).toBe(2);
    await fireEvent.keyDown(dialog, { key: 'ArrowLeft' });
    await fireEvent.keyDown(dialog, { key: 'ArrowLeft' });
    await flush();
    expect(app.viewer?.index).toBe(0);
    expect(transport.named('photo').map((c) => c.args.id)).toEqual([2, 3, 2, 1]);
    await fireEvent.keyDown(dialog, { key: 'Escape' });
    expect(app.viewer).toBeNull();
  });

  it('tags: score and source shown; add, confirm and reject', async () => {
    const { transport } = setup();
    const list = await screen.findByTestId('photo-tags');
    expect(list).toHaveTextContent('beach');
    expect(list).toHaveTextContent('suggested 0.29');
    expect(list).toHaveTextContent('Our van');
    expect(list).toHaveTextContent('yours');

    await fireEvent.click(screen.getByRole('button', { name: 'Confirm tag beach' }));
    await flush();
    expect(transport.named('tag_confirm')[0].args).toEqual({ id: 2, tag: 'beach' });
    expect(screen.queryByRole('button', { name: 'Confirm tag beach' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Remove tag beach' })).toBeInTheDocument();

    const input = screen.getByLabelText('Add a tag');
    await fireEvent.input(input, { target: { value: 'golden retriever' } });
    await fireEvent.submit(input.closest('form')!);
    await flush();
    expect(transport.named('tag_add')[0].args).toEqual({ id: 2, tag: 'golden retriever' });
    expect(screen.getByTestId('photo-tags')).toHaveTextContent('golden retriever');

    await fireEvent.click(screen.getByRole('button', { name: 'Remove tag Our van' }));
    await flush();
    expect(transport.named('tag_remove')[0].args).toEqual({ id: 2, tag: 'van' });
  });

  it('reveal shows the path over HTTP; find similar searches by id', async () => {
    const { app, transport } = setup();
    await screen.findByText('Reveal in folder');
    await fireEvent.click(screen.getByText('Reveal in folder'));
    await flush();
    expect(screen.getByRole('status')).toHaveTextContent('/p/2.jpg');
    await fireEvent.click(screen.getByRole('button', { name: 'Find similar' }));
    await flush();
    expect(transport.named('similar')[0].args).toMatchObject({ id: 2 });
    expect(app.viewer).toBeNull();
    expect(app.route.screen).toBe('search');
  });
});
