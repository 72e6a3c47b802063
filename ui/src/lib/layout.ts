/**
 * Pure layout of a sectioned photo grid (the timeline's months, or one
 * unnamed section for search results): which rows exist, where each sits,
 * and which are in view. Nothing here touches the DOM, so 100k photos are
 * laid out in a few milliseconds and tested without a browser.
 */

/** Tunables of the photo grid (tests may lengthen the settle delay). */
export const GRID_TIMING = {
  /** How long scrolling must be slow before fast-scrolled cells load thumbnails. */
  settleMs: 120,
};

export interface Section {
  /** Stable key (e.g. "2024-05" or "undated"). */
  key: string;
  /** Header text; an empty label means no header row. */
  label: string;
  /** Global index of the section's first photo. */
  start: number;
  count: number;
}

export interface Row {
  kind: 'header' | 'photos';
  top: number;
  height: number;
  section: number;
  /** photos rows: global index of the first photo and how many are in it. */
  start: number;
  count: number;
}

export interface LayoutOptions {
  /** Smallest cell edge; cells grow to fill the width. */
  minCell?: number;
  gap?: number;
  headerHeight?: number;
  /** Horizontal padding on both sides. */
  padding?: number;
}

export interface Layout {
  cols: number;
  cell: number;
  gap: number;
  padding: number;
  rows: Row[];
  height: number;
  sections: Section[];
  /** Index of the first photos row of each section. */
  firstRow: number[];
}

export function computeLayout(sections: Section[], width: number, opts: LayoutOptions = {}): Layout {
  const minCell = opts.minCell ?? 180;
  const gap = opts.gap ?? 4;
  const headerHeight = opts.headerHeight ?? 44;
  const padding = opts.padding ?? 12;
  const inner = Math.max(0, width - 2 * padding);
  const cols = Math.max(1, Math.floor((inner + gap) / (minCell + gap)));
  const cell = Math.max(40, Math.floor((inner - gap * (cols - 1)) / cols));
  const rows: Row[] = [];
  const firstRow: number[] = [];
  let top = 0;
  sections.forEach((s, si) => {
    if (s.label) {
      rows.push({ kind: 'header', top, height: headerHeight, section: si, start: s.start, count: 0 });
      top += headerHeight;
    }
    firstRow.push(rows.length);
    for (let i = 0; i < s.count; i += cols) {
      const count = Math.min(cols, s.count - i);
      rows.push({ kind: 'photos', top, height: cell + gap, section: si, start: s.start + i, count });
      top += cell + gap;
    }
  });
  return { cols, cell, gap, padding, rows, height: top, sections, firstRow };
}

/** First row whose bottom is below `y` (binary search). */
export function rowAt(layout: Layout, y: number): number {
  const rows = layout.rows;
  let lo = 0;
  let hi = rows.length - 1;
  if (hi < 0) return -1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid].top + rows[mid].height <= y) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Rows intersecting [scrollTop - overscan, scrollTop + viewport + overscan]. */
export function visibleRows(layout: Layout, scrollTop: number, viewport: number, overscan = 400): [number, number] {
  if (layout.rows.length === 0) return [0, -1];
  const first = rowAt(layout, Math.max(0, scrollTop - overscan));
  const last = rowAt(layout, scrollTop + viewport + overscan);
  return [first, last];
}

/** Section holding global photo index i (binary search over starts). */
export function sectionOf(layout: Layout, i: number): number {
  const s = layout.sections;
  let lo = 0;
  let hi = s.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s[mid].start <= i) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Row holding global photo index i. */
export function rowOf(layout: Layout, i: number): number {
  const si = sectionOf(layout, i);
  const s = layout.sections[si];
  if (!s) return -1;
  return layout.firstRow[si] + Math.floor((i - s.start) / layout.cols);
}

export type Move = 'left' | 'right' | 'up' | 'down' | 'pageup' | 'pagedown' | 'home' | 'end';

/**
 * Where keyboard focus goes from photo i. Up/down keep the column across
 * month headers (clamped to a shorter row); page moves by about a screen.
 */
export function moveFocus(layout: Layout, total: number, i: number, move: Move, viewport = 600): number {
  if (total <= 0) return -1;
  const clamp = (n: number) => Math.min(total - 1, Math.max(0, n));
  if (move === 'left') return clamp(i - 1);
  if (move === 'right') return clamp(i + 1);
  if (move === 'home') return 0;
  if (move === 'end') return total - 1;
  const r = rowOf(layout, i);
  const row = layout.rows[r];
  if (!row) return clamp(i);
  const col = i - row.start;
  const step = (dir: 1 | -1, from: number) => {
    let k = from + dir;
    while (k >= 0 && k < layout.rows.length && layout.rows[k].kind !== 'photos') k += dir;
    return k >= 0 && k < layout.rows.length ? k : -1;
  };
  if (move === 'up' || move === 'down') {
    const k = step(move === 'up' ? -1 : 1, r);
    if (k < 0) return move === 'up' ? i : i; // stay on the first/last row
    const target = layout.rows[k];
    return target.start + Math.min(col, target.count - 1);
  }
  // pageup / pagedown: the row about one viewport away.
  const y = row.top + (move === 'pageup' ? -viewport : viewport);
  let k = rowAt(layout, Math.max(0, Math.min(layout.height - 1, y)));
  if (layout.rows[k]?.kind !== 'photos') k = step(move === 'pageup' ? -1 : 1, k) ;
  if (k < 0) return move === 'pageup' ? 0 : total - 1;
  const target = layout.rows[k];
  return target.start + Math.min(col, target.count - 1);
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "2024-05" → "May 2024"; null → "Undated". */
export function monthLabel(month: string | null): string {
  if (!month) return 'Undated';
  const m = /^(\d{4})-(\d{2})/.exec(month);
  if (!m) return month;
  const idx = Number(m[2]) - 1;
  return `${MONTHS[idx] ?? m[2]} ${m[1]}`;
}
