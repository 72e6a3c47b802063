import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import Library from '../screens/Library.svelte';
import { flush, makeApp, renderWith } from '../test/fake';
import type { PhotoRef } from '../lib/api/types';
import { GRID_TIMING } from '../lib/layout';

const TOTAL = 100_000;
const PER_MONTH = 250; // 400 months

function timelineHandler() {
  const months = Array.from({ length: TOTAL / PER_MONTH }, (_, m) => {
    const y = 2024 - Math.floor(m / 12);
    const mo = 12 - (m % 12);
    return { month: `${y}-${String(mo).padStart(2, '0')}`, count: PER_MONTH, offset: m * PER_MONTH };
  });
  return (args: Record<string, any>) => {
    const photos: PhotoRef[] = [];
    for (let i = args.offset; i < Math.min(TOTAL, args.offset + args.limit); i++) {
      const m = months[Math.floor(i / PER_MONTH)];
      photos.push({ id: TOTAL - i, width: i % 3 ? 4000 : 3000, height: i % 3 ? 3000 : 4000, taken_at: `${m.month}-01T10:00:00Z` });
    }
    return { total: TOTAL, months: args.months ? months : undefined, offset: args.offset, limit: args.limit, photos };
  };
}

describe('timeline', () => {
  it('renders only the visible rows of 100k photos, with month headers', async () => {
    const { app, transport } = makeApp({ timeline: timelineHandler() });
    renderWith(Library, app);
    const grid = await screen.findByRole('grid', { name: 'Photo timeline' });
    await flush();
    const cells = screen.getAllByRole('gridcell');
    // 1024 × 768 fallback viewport + overscan: a few rows of 6, never thousands.
    expect(cells.length).toBeGreaterThan(10);
    expect(cells.length).toBeLessThan(80);
    const cols = Number(grid.getAttribute('aria-colcount'));
    expect(cols).toBe(6); // 1024 px fallback width, 160 px minimum cells
    expect(grid.getAttribute('aria-rowcount')).toBe(String(400 + 400 * Math.ceil(PER_MONTH / cols)));
    expect(screen.getAllByTestId('month-header')[0]).toHaveTextContent('December 2024');
    // Only the first page was fetched.
    expect(transport.named('timeline')).toHaveLength(1);
    // Placeholders take the photo's aspect ratio before the thumbnail loads.
    const frame = cells[0].querySelector('.frame') as HTMLElement;
    expect(frame.style.aspectRatio.replace(/\s/g, '')).toBe('3000/4000');
    expect(cells[0].querySelector('img')!.getAttribute('src')).toBe('/thumb/100000?size=256');
    expect(cells[0].querySelector('img')!.getAttribute('loading')).toBe('lazy');
  });

  it('scrolling far renders other rows and fetches just that page', async () => {
    // Scrolling never settles by itself in this test (no race with a busy
    // machine's clock); the test settles it below, when it has looked.
    GRID_TIMING.settleMs = 3_600_000;
    const { app, transport } = makeApp({ timeline: timelineHandler() });
    renderWith(Library, app);
    const grid = await screen.findByRole('grid', { name: 'Photo timeline' });
    await flush();
    const canvasHeight = parseFloat((grid.firstElementChild as HTMLElement).style.height);
    expect(canvasHeight).toBeGreaterThan(2_500_000);
    Object.defineProperty(grid, 'scrollTop', { configurable: true, value: canvasHeight / 2, writable: true });
    await fireEvent.scroll(grid);
    await flush();
    await waitFor(() => expect(screen.getAllByRole('gridcell').some((c) => c.getAttribute('data-id'))).toBe(true));
    const idx = screen.getAllByRole('gridcell').map((c) => Number(c.getAttribute('data-index')));
    const shown = idx.filter((i) => i > 1000);
    expect(shown.length).toBeGreaterThan(10);
    expect(Math.min(...shown)).toBeGreaterThan(45_000);
    expect(Math.max(...shown)).toBeLessThan(55_000);
    const calls = transport.named('timeline');
    expect(calls.length).toBeLessThanOrEqual(4);
    expect(calls.slice(1).every((c) => c.args.months === false && c.args.limit === 500)).toBe(true);
    expect(screen.getByTestId('sticky-month')).toBeInTheDocument();
    // A jump that far loads no thumbnails until scrolling settles.
    const farCells = screen.getAllByRole('gridcell').filter((c) => Number(c.getAttribute('data-index')) > 1000);
    expect(farCells.every((c) => c.querySelector('img') === null)).toBe(true);
    // Settle: a slow scroll at the same place starts a zero-length settle.
    GRID_TIMING.settleMs = 0;
    await fireEvent.scroll(grid);
    await waitFor(() => expect(screen.getAllByRole('gridcell').filter((c) => Number(c.getAttribute('data-index')) > 1000).every((c) => c.querySelector('img'))).toBe(true));
    GRID_TIMING.settleMs = 120;
  });

  it('arrow keys move focus in the grid and Enter opens the photo', async () => {
    const { app } = makeApp({ timeline: timelineHandler() });
    renderWith(Library, app);
    await screen.findByRole('grid', { name: 'Photo timeline' });
    await flush();
    const first = screen.getAllByRole('gridcell')[0];
    first.focus();
    expect(first).toHaveAttribute('tabindex', '0');
    await fireEvent.keyDown(first, { key: 'ArrowRight' });
    await flush();
    expect(document.activeElement?.getAttribute('data-index')).toBe('1');
    await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    await flush();
    expect(document.activeElement?.getAttribute('data-index')).toBe('7'); // 6 columns
    await fireEvent.keyDown(document.activeElement!, { key: 'Enter' });
    expect(app.viewer?.index).toBe(7);
  });

  it('says what to do when there are no folders', async () => {
    const { app } = makeApp({ timeline: () => ({ total: 0, months: [], offset: 0, limit: 500, photos: [] }) });
    app.status = { ...(await app.client.status()), folders: 0, photos: 0 };
    renderWith(Library, app);
    expect(await screen.findByTestId('library-empty')).toHaveTextContent(/Add a folder/);
  });
});
