import { describe, expect, it } from 'vitest';
import { computeLayout, monthLabel, moveFocus, rowOf, visibleRows, type Section } from '../lib/layout';

const sections: Section[] = [
  { key: '2024-05', label: 'May 2024', start: 0, count: 7 },
  { key: '2024-04', label: 'April 2024', start: 7, count: 3 },
  { key: 'undated', label: 'Undated', start: 10, count: 2 },
];

describe('grid layout', () => {
  it('lays out header and photo rows per section', () => {
    // width 4*100 + 3*4 gap + 2*12 padding = 436 → 4 columns of 100 px.
    const l = computeLayout(sections, 436, { minCell: 100, gap: 4, headerHeight: 40, padding: 12 });
    expect(l.cols).toBe(4);
    expect(l.cell).toBe(100);
    expect(l.rows.map((r) => [r.kind, r.start, r.count])).toEqual([
      ['header', 0, 0], ['photos', 0, 4], ['photos', 4, 3],
      ['header', 7, 0], ['photos', 7, 3],
      ['header', 10, 0], ['photos', 10, 2],
    ]);
    expect(l.height).toBe(3 * 40 + 4 * 104);
    expect(rowOf(l, 5)).toBe(2);
    expect(rowOf(l, 8)).toBe(4);
  });

  it('keeps the column when moving up and down across month headers', () => {
    const l = computeLayout(sections, 436, { minCell: 100, gap: 4, padding: 12 });
    expect(moveFocus(l, 12, 1, 'down')).toBe(5); // row 2, same column
    expect(moveFocus(l, 12, 5, 'down')).toBe(8); // across the header into April, col 1
    expect(moveFocus(l, 12, 3, 'down')).toBe(6); // col 3 clamps to the last of a 3-photo row
    expect(moveFocus(l, 12, 9, 'down')).toBe(11); // col 2 → Undated row has 2 photos
    expect(moveFocus(l, 12, 8, 'up')).toBe(5);
    expect(moveFocus(l, 12, 1, 'up')).toBe(1); // first row stays
    expect(moveFocus(l, 12, 0, 'left')).toBe(0);
    expect(moveFocus(l, 12, 6, 'right')).toBe(7);
    expect(moveFocus(l, 12, 4, 'end')).toBe(11);
    expect(moveFocus(l, 12, 4, 'home')).toBe(0);
  });

  it('finds the visible rows of 100k photos by binary search', () => {
    const months: Section[] = [];
    let start = 0;
    for (let m = 0; m < 400; m++) {
      months.push({ key: `m${m}`, label: `M ${m}`, start, count: 250 });
      start += 250;
    }
    const l = computeLayout(months, 1200, { minCell: 180 });
    expect(start).toBe(100_000);
    const [a, b] = visibleRows(l, l.height / 2, 800, 0);
    expect(b - a).toBeLessThan(10);
    const mid = l.rows[a];
    expect(mid.top).toBeLessThanOrEqual(l.height / 2);
    expect(mid.top + mid.height).toBeGreaterThan(l.height / 2);
  });

  it('labels months', () => {
    expect(monthLabel('2024-05')).toBe('May 2024');
    expect(monthLabel(null)).toBe('Undated');
  });
});
