import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import App from '../App.svelte';
import { flush, makeApp, photoRefs, renderWith } from '../test/fake';
import type { StructuredQuery } from '../lib/api/types';

function parsed(text: string): StructuredQuery {
  return {
    text: text.replace(/\s*after:\S+|\s*tag:\S+/g, '').trim(),
    negative: [],
    filters: {
      after: /after:/.test(text) ? '2019-01-01' : null, before: null, months: [], folders: [], cameras: [],
      tags: /tag:beach/.test(text) ? ['beach'] : [], has_gps: null, types: [], like: null,
    },
  };
}

function searchHandler(args: Record<string, any>) {
  const query: StructuredQuery = args.query ?? parsed(args.q);
  const chips = [];
  if (query.filters.after) chips.push({ field: 'after', value: query.filters.after, label: 'after 1 Jan 2019' });
  for (const t of query.filters.tags) chips.push({ field: 'tags', value: t, label: `tag: ${t}` });
  const total = args.all ? 12 : 3;
  const results = photoRefs(total).slice(args.offset ?? 0, (args.offset ?? 0) + (args.limit ?? 20)).map((p, k) => ({ ...p, score: 0.3 - k * 0.01, path: `/p/${p.id}.jpg` }));
  // The engine writes the query back as text (Query::to_text); this stands in for it.
  const query_text = [query.text, query.filters.after ? `after:${query.filters.after}` : '', ...query.filters.tags.map((t) => `tag:${t}`)].filter(Boolean).join(' ');
  return { query, chips, query_text, results, total, candidates: 40, cutoff: null, more: !args.all, sort: 'relevance', offset: args.offset ?? 0, limit: args.limit ?? 20 };
}

beforeEach(() => {
  history.replaceState(null, '', '/#/library');
});
afterEach(() => {
  vi.useRealTimers();
});

async function setup() {
  const { app, transport } = makeApp({
    timeline: () => ({ total: 0, months: [], offset: 0, limit: 500, photos: [] }),
    search: searchHandler,
  });
  renderWith(App, app, { app });
  await flush();
  return { app, transport };
}

describe('search', () => {
  it('Ctrl+K and / focus the search box', async () => {
    await setup();
    const box = screen.getByRole('searchbox', { name: 'Search photos' });
    await fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    expect(document.activeElement).toBe(box);
    box.blur();
    await fireEvent.keyDown(document.body, { key: '/' });
    expect(document.activeElement).toBe(box);
  });

  it('searches once typing pauses (250 ms), not on every key', async () => {
    const { transport } = await setup();
    vi.useFakeTimers();
    const box = screen.getByRole('searchbox', { name: 'Search photos' });
    for (const text of ['d', 'do', 'dog', 'dog after:2019']) {
      await fireEvent.input(box, { target: { value: text } });
      vi.advanceTimersByTime(100);
    }
    expect(transport.named('search')).toHaveLength(0);
    vi.advanceTimersByTime(250);
    vi.useRealTimers();
    await flush();
    expect(transport.named('search')).toHaveLength(1);
    expect(transport.named('search')[0].args).toMatchObject({ q: 'dog after:2019', offset: 0, all: false, sort: 'relevance' });
    expect(location.hash).toBe('#/search?q=dog%20after%3A2019');
    await waitFor(() => expect(screen.getAllByTestId('chip')).toHaveLength(1));
    expect(screen.getByTestId('chip')).toHaveTextContent('after 1 Jan 2019');
    // Scores are on every result, shown on hover.
    expect(screen.getAllByTestId('score')[0]).toHaveTextContent('score 0.300');
  });

  it('removing a chip searches again with the structured query, in one click', async () => {
    const { transport } = await setup();
    const box = screen.getByRole('searchbox', { name: 'Search photos' }) as HTMLInputElement;
    await fireEvent.input(box, { target: { value: 'dog after:2019 tag:beach' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await flush();
    await waitFor(() => expect(screen.getAllByTestId('chip')).toHaveLength(2));
    await fireEvent.click(screen.getByRole('button', { name: 'Remove filter after 1 Jan 2019' }));
    await flush();
    const last = transport.named('search').at(-1)!;
    expect(last.args.q).toBeUndefined();
    expect(last.args.query.filters.after).toBeNull();
    expect(last.args.query.filters.tags).toEqual(['beach']);
    await waitFor(() => expect(screen.getAllByTestId('chip')).toHaveLength(1));
    expect(box.value).toBe('dog tag:beach');
  });

  it('"show more" repeats the search past the cut-off', async () => {
    const { transport } = await setup();
    const box = screen.getByRole('searchbox', { name: 'Search photos' });
    await fireEvent.input(box, { target: { value: 'dog' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await flush();
    await fireEvent.click(await screen.findByTestId('show-more'));
    await flush();
    expect(transport.named('search').at(-1)!.args).toMatchObject({ all: true, query: { text: 'dog' } });
    await waitFor(() => expect(screen.getByTestId('search-summary')).toHaveTextContent('12 photos that pass the filters, best match first'));
    // Newest first keeps the query and the "show more" choice.
    await fireEvent.change(screen.getByRole('combobox', { name: 'Order' }), { target: { value: 'date' } });
    await flush();
    expect(transport.named('search').at(-1)!.args).toMatchObject({ sort: 'date', all: true, query: { text: 'dog' } });
  });

  it('says what the results are: best matches, or photos by date for filters alone', async () => {
    await setup();
    const box = screen.getByRole('searchbox', { name: 'Search photos' });
    await fireEvent.input(box, { target: { value: 'dog' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await flush();
    await waitFor(() => expect(screen.getByTestId('search-summary')).toHaveTextContent('3 best matches among 40 photos'));
    expect(screen.getByRole('combobox', { name: 'Order' })).toBeInTheDocument();
    // Filters only: newest first, and no "best match" order to offer.
    await fireEvent.input(box, { target: { value: 'tag:beach' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await flush();
    await waitFor(() => expect(screen.getByTestId('search-summary')).toHaveTextContent('3 photos, newest first'));
    expect(screen.queryByRole('combobox', { name: 'Order' })).toBeNull();
  });

  it('says which filters left nothing, instead of "nothing matches"', async () => {
    const { transport } = await setup();
    const empty = (chips: { field: string; value: unknown; label: string }[]) => ({
      query: parsed('x'), chips, query_text: 'x', results: [], total: 0, candidates: 0, cutoff: null, more: false, sort: 'date', offset: 0, limit: 20,
    });
    const box = screen.getByRole('searchbox', { name: 'Search photos' });
    transport.handlers.search = () =>
      empty([{ field: 'after', value: '2018-06-01', label: 'after 1 Jun 2018' }, { field: 'before', value: '2018-09-01', label: 'before 1 Sep 2018' }]);
    await fireEvent.input(box, { target: { value: 'summer 2018' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await flush();
    await waitFor(() => expect(screen.getByTestId('search-empty')).toHaveTextContent('No photos after 1 Jun 2018 and before 1 Sep 2018'));
    transport.handlers.search = () => empty([{ field: 'tags', value: 'dog', label: 'tag: dog' }]);
    await fireEvent.input(box, { target: { value: 'tag:dog' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await flush();
    await waitFor(() => expect(screen.getByTestId('search-empty')).toHaveTextContent('No photos pass the filters: tag: dog'));
  });

  it('an error does not keep the previous query\'s chips', async () => {
    const { transport } = await setup();
    const box = screen.getByRole('searchbox', { name: 'Search photos' });
    await fireEvent.input(box, { target: { value: 'dog tag:beach' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await flush();
    await waitFor(() => expect(screen.getAllByTestId('chip')).toHaveLength(1));
    transport.handlers.search = () => {
      throw Object.assign(new Error('unknown filter colour: (known: after, before, …)'), { code: 'bad_query' });
    };
    await fireEvent.input(box, { target: { value: 'colour:red' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await flush();
    expect(await screen.findByTestId('search-error')).toHaveTextContent('did not understand');
    expect(screen.queryAllByTestId('chip')).toHaveLength(0);
  });

  it('explains a missing model and a bad query', async () => {
    const { transport } = await setup();
    transport.handlers.search = () => {
      throw Object.assign(new Error('No model: download one in Settings'), { code: 'no_model' });
    };
    const box = screen.getByRole('searchbox', { name: 'Search photos' });
    await fireEvent.input(box, { target: { value: 'dog' } });
    await fireEvent.keyDown(box, { key: 'Enter' });
    await flush();
    expect(await screen.findByTestId('search-error')).toHaveTextContent('Search needs a model');
  });
});
