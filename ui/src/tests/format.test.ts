import { describe, expect, it } from 'vitest';
import { dateSourceText, fmtCount } from '../lib/state/app.svelte';

describe('counts in words', () => {
  it('says one thing in the singular and the rest in the plural', () => {
    expect(fmtCount(1, 'error')).toBe('1 error');
    expect(fmtCount(0, 'error')).toBe('0 errors');
    expect(fmtCount(2000, 'photo')).toBe('2,000 photos');
    expect(fmtCount(1, 'copy', 'copies')).toBe('1 copy');
    expect(fmtCount(3, 'copy', 'copies')).toBe('3 copies');
  });
});

describe('where a date came from', () => {
  it('names EXIF, the file name, the folder name and the file date', () => {
    expect(dateSourceText('exif:DateTimeOriginal')).toBe('from EXIF');
    expect(dateSourceText('name:file')).toBe('from the file name');
    expect(dateSourceText('name:folder')).toBe('from the folder name');
    expect(dateSourceText('file:modified')).toBe("from the file's date");
    expect(dateSourceText(null)).toBe('no date recorded');
  });
});
