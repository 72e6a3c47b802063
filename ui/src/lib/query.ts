import type { Chip, StructuredQuery } from './api/types';

const MONTH_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const quote = (v: string) => (/^[\w.-]+$/.test(v) ? v : `"${v.replace(/"/g, '')}"`);

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

/** Text in the query language that parses back to `query` (what the box shows after a chip goes). */
export function queryToText(query: StructuredQuery): string {
  const parts: string[] = [];
  if (query.text) parts.push(query.text);
  for (const n of query.negative ?? []) parts.push(`-${/\s/.test(n) ? `"${n}"` : n}`);
  const f = query.filters ?? ({} as StructuredQuery['filters']);
  if (f.after) parts.push(`after:${f.after}`);
  if (f.before) parts.push(`before:${f.before}`);
  for (const m of f.months ?? []) if (MONTH_NAMES[m - 1]) parts.push(MONTH_NAMES[m - 1]);
  for (const v of f.folders ?? []) parts.push(`in:${quote(v)}`);
  for (const v of f.cameras ?? []) parts.push(`camera:${quote(v)}`);
  for (const v of f.tags ?? []) parts.push(`tag:${quote(v)}`);
  if (f.has_gps === true) parts.push('has:gps');
  if (f.has_gps === false) parts.push('-has:gps');
  for (const v of f.types ?? []) parts.push(`type:${v}`);
  if (f.like != null) parts.push(`like:${f.like}`);
  return parts.join(' ');
}
