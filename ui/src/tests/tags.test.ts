import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import Tags from '../screens/Tags.svelte';
import { flush, makeApp, photoRefs, renderWith } from '../test/fake';
import type { TagInfo } from '../lib/api/types';

const t = (tag: string, parents: string[], count: number, extra: Partial<TagInfo> = {}): TagInfo => ({
  tag, name: tag, parents, group: false, custom: false, keyword: false, count, auto: count, user: 0, imported: 0, rejected: 0, ...extra,
});

beforeEach(() => history.replaceState(null, '', '/#/tags'));

function setup() {
  let tags = [t('animals', [], 0, { group: true }), t('dog', ['animals'], 88), t('golden retriever', ['dog', 'animals'], 5), t('cat', ['animals'], 0), t('Vacation 2019', [], 14, { keyword: true, auto: 0, imported: 14 })];
  const { app, transport } = makeApp({
    tags: () => ({ tags }),
    tag_photos: (a) => ({ tag: a.tag, total: 2, offset: 0, limit: 200, photos: photoRefs(2).map((p, k) => ({ ...p, source: k === 0 ? 'auto' : 'user', score: k === 0 ? 0.27 : null })) }),
    tag_confirm: (a) => ({ id: a.id, tag: a.tag, action: 'confirm', was_on: true, tags: [] }),
    tag_reject: (a) => ({ id: a.id, tag: a.tag, action: 'reject', was_on: true, tags: [] }),
    custom_tag_create: (a) => {
      tags = [...tags, t(a.name, a.parent ? [a.parent] : [], 0, { custom: true })];
      return { tag: a.name, name: a.name, kind: 'custom', description: a.description, parent: a.parent, examples: a.examples?.length ?? 0 };
    },
  });
  app.route = { screen: 'tags', param: '' };
  renderWith(Tags, app);
  return { app, transport };
}

describe('tags', () => {
  it('shows the hierarchy with counts and hides unused tags', async () => {
    setup();
    const tree = await screen.findByRole('tree', { name: 'Tags' });
    await waitFor(() => expect(tree).toHaveTextContent('dog'));
    const dog = screen.getByTestId('tag-dog');
    expect(dog).toHaveTextContent('88');
    // golden retriever sits under dog
    expect(dog.closest('li')!.querySelector('[data-testid="tag-golden retriever"]')).not.toBeNull();
    expect(screen.queryByTestId('tag-cat')).toBeNull();
    expect(screen.getByTestId('tag-Vacation 2019')).toHaveTextContent('keyword');
    await fireEvent.click(screen.getByRole('checkbox', { name: 'Only tags in use' }));
    expect(screen.getByTestId('tag-cat')).toBeInTheDocument();
  });

  it('clicking a tag shows its photos; suggestions can be confirmed or rejected', async () => {
    const { app, transport } = setup();
    await fireEvent.click(await screen.findByTestId('tag-dog'));
    expect(app.route).toEqual({ screen: 'tags', param: 'dog' });
    const grid = await screen.findByRole('grid', { name: 'Photos tagged dog' });
    await flush();
    expect(transport.named('tag_photos')[0].args).toMatchObject({ tag: 'dog', offset: 0 });
    const cells = within(grid).getAllByRole('gridcell');
    expect(cells).toHaveLength(2);
    // Only the automatic suggestion has confirm/reject.
    expect(within(cells[1]).queryByRole('button', { name: /Confirm/ })).toBeNull();
    await fireEvent.click(within(cells[0]).getByRole('button', { name: 'Confirm dog on photo 1' }));
    await flush();
    expect(transport.named('tag_confirm')[0].args).toEqual({ id: 1, tag: 'dog' });
    expect(cells[0]).toHaveTextContent('Confirmed');
    expect(app.viewer).toBeNull(); // the click did not open the photo
  });

  it('lists only the suggestions left to review', async () => {
    const { transport } = setup();
    await fireEvent.click(await screen.findByTestId('tag-dog'));
    await screen.findByRole('grid', { name: 'Photos tagged dog' });
    await flush();
    expect(transport.named('tag_photos')[0].args).not.toHaveProperty('source');
    await fireEvent.click(screen.getByRole('checkbox', { name: 'Only suggestions to review' }));
    await flush();
    expect(transport.named('tag_photos').at(-1)!.args).toMatchObject({ tag: 'dog', source: 'auto' });
  });

  it('creates a custom tag', async () => {
    const { transport } = setup();
    await screen.findByRole('tree');
    await fireEvent.click(screen.getByRole('button', { name: 'New tag' }));
    const form = screen.getByRole('form', { name: 'Create a custom tag' });
    await fireEvent.input(within(form).getByLabelText('Name'), { target: { value: 'our red van' } });
    await fireEvent.input(within(form).getByLabelText(/Description/), { target: { value: 'a red camper van' } });
    await fireEvent.input(within(form).getByLabelText(/Example photo ids/), { target: { value: '12, 31' } });
    await fireEvent.click(within(form).getByRole('button', { name: 'Create tag' }));
    await flush();
    expect(transport.named('custom_tag_create')[0].args).toEqual({ name: 'our red van', description: 'a red camper van', parent: null, examples: [12, 31] });
    await waitFor(() => expect(screen.getByTestId('tag-our red van')).toHaveTextContent('custom'));
  });
});
