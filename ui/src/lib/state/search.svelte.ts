import type { Client } from '../api/client';
import type { Chip, SearchArgs, SearchHit, SearchResponse, StructuredQuery } from '../api/types';
import { removeChip } from '../query';
import { PhotoList } from './photolist.svelte';

export const DEBOUNCE_MS = 250;
const PAGE = 100;

/** The search box and its results, shared by the top bar and the Search screen. */
export class SearchState {
  text = $state('');
  response = $state<SearchResponse | null>(null);
  loading = $state(false);
  error = $state<{ code: string; message: string } | null>(null);
  /** Whether the last search ignored the relevance cut-off ("show more"). */
  all = $state(false);
  list = $state<PhotoList<SearchHit> | null>(null);
  /** `relevance` (best first) or `date` (newest first). */
  sort = $state<'relevance' | 'date'>('relevance');
  /** Label of a similar-photo search ("Photos like #17"), else null. */
  similarTo = $state<number | null>(null);

  private seq = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly client: Client;

  constructor(client: Client) {
    this.client = client;
  }

  /** Call on every keystroke: searches once typing pauses for DEBOUNCE_MS. */
  type(text: string, onSearch?: (text: string) => void) {
    this.text = text;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      onSearch?.(text);
      void this.run({ q: text });
    }, DEBOUNCE_MS);
  }

  /** Search now (Enter), dropping any pending debounce. */
  now(text = this.text) {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.text = text;
    return this.run({ q: text });
  }

  removeChip(chip: Chip) {
    if (!this.response) return Promise.resolve();
    const query = removeChip(this.response.query, chip);
    if (this.similarTo != null && chip.field === 'like') this.similarTo = null;
    // The box then shows the engine's text for the query that is left.
    return this.run({ query }, false, true);
  }

  setSort(sort: 'relevance' | 'date') {
    this.sort = sort;
    if (!this.response || this.similarTo != null) return Promise.resolve();
    return this.run({ query: JSON.parse(JSON.stringify(this.response.query)) as StructuredQuery }, this.all);
  }

  showMore() {
    if (!this.response) return Promise.resolve();
    return this.run({ query: JSON.parse(JSON.stringify(this.response.query)) as StructuredQuery, all: true }, true);
  }

  async similar(id: number) {
    if (this.timer) clearTimeout(this.timer);
    this.similarTo = id;
    this.text = `like:${id}`;
    const seq = ++this.seq;
    this.loading = true;
    this.all = false;
    try {
      const fetchPage = (offset: number, limit: number) =>
        this.client.similar(id, { offset, limit }).then((r) => ({ total: r.total, photos: r.results }));
      const res = await this.client.similar(id, { offset: 0, limit: PAGE });
      if (seq !== this.seq) return;
      this.accept(res, fetchPage);
    } catch (e) {
      if (seq === this.seq) this.fail(e);
    }
  }

  clear() {
    if (this.timer) clearTimeout(this.timer);
    this.seq++;
    this.text = '';
    this.response = null;
    this.list = null;
    this.error = null;
    this.loading = false;
    this.similarTo = null;
  }

  private async run(args: SearchArgs, all = false, showQueryText = false) {
    const seq = ++this.seq;
    if (args.q !== undefined && !args.q.trim()) {
      this.response = null;
      this.list = null;
      this.error = null;
      this.loading = false;
      return;
    }
    if (args.q !== undefined) this.similarTo = null;
    this.loading = true;
    this.all = all;
    const base: SearchArgs = { ...args, all, sort: this.sort };
    try {
      const res = await this.client.search({ ...base, offset: 0, limit: PAGE });
      if (seq !== this.seq) return;
      if (showQueryText) this.text = res.query_text;
      // Later pages use the parsed query, so they match the first exactly.
      const again: SearchArgs = { query: res.query, all, sort: this.sort };
      const fetchPage = (offset: number, limit: number) =>
        this.client.search({ ...again, offset, limit }).then((r) => ({ total: r.total, photos: r.results }));
      this.accept(res, fetchPage);
    } catch (e) {
      if (seq === this.seq) this.fail(e);
    }
  }

  private accept(res: SearchResponse, fetchPage: (o: number, l: number) => Promise<{ total: number; photos: SearchHit[] }>) {
    this.response = res;
    this.error = null;
    this.loading = false;
    const list = new PhotoList<SearchHit>(fetchPage, PAGE);
    list.seed(res.total, [{ key: 'results', label: '', start: 0, count: res.total }], res.results);
    this.list = list;
  }

  private fail(e: unknown) {
    const err = e as { code?: string; message?: string };
    this.error = { code: err?.code ?? 'error', message: err?.message ?? String(e) };
    this.loading = false;
  }
}
