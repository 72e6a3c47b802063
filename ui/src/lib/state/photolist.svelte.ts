import type { PhotoRef } from '../api/types';
import type { Section } from '../layout';

export interface Page<P extends PhotoRef> {
  total: number;
  photos: P[];
}

/**
 * A long list of photos fetched page by page as the grid shows them.
 * `version` changes whenever a page arrives so views re-render.
 */
export class PhotoList<P extends PhotoRef = PhotoRef> {
  total = $state(0);
  sections = $state<Section[]>([]);
  version = $state(0);
  loading = $state(false);
  error = $state<string | null>(null);

  private items: (P | undefined)[] = [];
  private pending = new Set<number>();
  private readonly pageSize: number;
  private readonly fetchPage: (offset: number, limit: number) => Promise<Page<P>>;
  private generation = 0;

  constructor(fetchPage: (offset: number, limit: number) => Promise<Page<P>>, pageSize = 500) {
    this.fetchPage = fetchPage;
    this.pageSize = pageSize;
  }

  /** Start with a first page already in hand (e.g. the timeline with its months). */
  seed(total: number, sections: Section[], first: P[], offset = 0) {
    this.generation++;
    this.pending.clear();
    this.items = new Array(total);
    first.forEach((p, k) => (this.items[offset + k] = p));
    this.total = total;
    this.sections = sections;
    this.error = null;
    this.version++;
  }

  get(i: number): P | undefined {
    return this.items[i];
  }

  /** Index of a photo id among the loaded items, or -1. */
  indexOf(id: number): number {
    return this.items.findIndex((p) => p?.id === id);
  }

  /** Fetch whatever pages cover [from, to] and are not loaded or in flight. */
  ensure(from: number, to: number): Promise<void> {
    const lo = Math.max(0, from);
    const hi = Math.min(this.total - 1, to);
    if (hi < lo) return Promise.resolve();
    const jobs: Promise<void>[] = [];
    for (let page = Math.floor(lo / this.pageSize); page * this.pageSize <= hi; page++) {
      const offset = page * this.pageSize;
      if (this.pending.has(page)) continue;
      let missing = false;
      for (let i = Math.max(lo, offset); i <= Math.min(hi, offset + this.pageSize - 1); i++) {
        if (this.items[i] === undefined) { missing = true; break; }
      }
      if (!missing) continue;
      this.pending.add(page);
      const gen = this.generation;
      jobs.push(
        this.fetchPage(offset, this.pageSize).then(
          (res) => {
            if (gen !== this.generation) return;
            this.pending.delete(page);
            res.photos.forEach((p, k) => (this.items[offset + k] = p));
            this.version++;
          },
          (e) => {
            if (gen !== this.generation) return;
            this.pending.delete(page);
            this.error = e instanceof Error ? e.message : String(e);
          },
        ),
      );
    }
    return Promise.all(jobs).then(() => {});
  }
}
