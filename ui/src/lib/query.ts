import type { Chip, StructuredQuery } from './api/types';

/** The query with one chip taken off (docs/api.md, `search` → `chips`). */
export function removeChip(query: StructuredQuery, chip: Chip): StructuredQuery {
  const q: StructuredQuery = plain(query);
  if (chip.field === 'negative') {
    q.negative = q.negative.filter((n) => n !== chip.value);
    return q;
  }
  const f = q.filters as Record<string, unknown>;
  const cur = f[chip.field];
  if (Array.isArray(cur)) {
    // A chip holds one element (`tags: "beach"`) or a whole list (`months:
    // [6, 7, 8]` for "summer"): take off whatever it names.
    const gone = new Set((Array.isArray(chip.value) ? chip.value : [chip.value]).map((v) => JSON.stringify(v)));
    f[chip.field] = cur.filter((v) => !gone.has(JSON.stringify(v)));
  }
  else f[chip.field] = null;
  return q;
}

function plain<T>(v: T): T {
  // Svelte state proxies cannot be structuredClone'd; JSON round-trip them.
  return JSON.parse(JSON.stringify(v)) as T;
}
