import { describe, expect, it } from 'vitest';
import type { StructuredQuery } from '../lib/api/types';
import { removeChip } from '../lib/query';

const q: StructuredQuery = {
  text: 'dog on the beach',
  negative: ['cat', 'red car'],
  filters: { after: '2019-01-01', before: null, months: [6, 7], folders: ['Summer Trip'], cameras: ['pixel'], tags: ['beach'], has_gps: true, types: ['jpeg'], like: 12 },
};

describe('chips', () => {
  it('removes list values, single values and negatives', () => {
    expect(removeChip(q, { field: 'after', value: '2019-01-01', label: 'after 1 Jan 2019' }).filters.after).toBeNull();
    expect(removeChip(q, { field: 'months', value: 6, label: 'June' }).filters.months).toEqual([7]);
    // docs/api.md: the months chip carries the whole list ("summer" = [6, 7, 8]).
    expect(removeChip(q, { field: 'months', value: [6, 7], label: 'June, July' }).filters.months).toEqual([]);
    expect(removeChip(q, { field: 'tags', value: 'beach', label: 'tag: beach' }).filters.tags).toEqual([]);
    expect(removeChip(q, { field: 'negative', value: 'cat', label: 'not cat' }).negative).toEqual(['red car']);
    expect(removeChip(q, { field: 'has_gps', value: true, label: 'has GPS' }).filters.has_gps).toBeNull();
    expect(q.filters.after).toBe('2019-01-01'); // the original is untouched
  });
});
