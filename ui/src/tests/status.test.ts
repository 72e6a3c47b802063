import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import StatusBar from '../components/StatusBar.svelte';
import StatusScreen from '../screens/Status.svelte';
import { flush, makeApp, renderWith, status } from '../test/fake';

describe('status', () => {
  it('the status bar follows progress events: counts, rate, ETA', async () => {
    const { app, transport } = makeApp({ jobs_pause: () => ({ paused: ['scan', 'embed'] }), jobs_resume: () => ({ paused: [] }) });
    await app.start();
    renderWith(StatusBar, app);
    expect(screen.getByTestId('status-bar')).toHaveTextContent('10 photos · up to date');
    transport.emit({ event: 'progress', kind: 'embed', done: 40, total: 160, rate: 9.5, eta_seconds: 12.6 });
    await flush();
    const line = screen.getByTestId('status-progress');
    expect(line).toHaveTextContent('Understanding photos 40 / 160 · 9.5/s · 13 s left');
    const bar = screen.getByRole('progressbar', { name: 'Understanding photos progress' });
    expect(bar).toHaveAttribute('value', '40');
    expect(bar).toHaveAttribute('max', '160');
    transport.emit({ event: 'progress', kind: 'embed', done: 100, total: 160, rate: 10, eta_seconds: 360 });
    await flush();
    expect(screen.getByTestId('status-progress')).toHaveTextContent('100 / 160 · 10/s · 6 min left');

    await fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    await flush();
    expect(transport.named('jobs_pause')[0].args).toEqual({ kinds: [] });
    expect(screen.getByRole('button', { name: 'Resume' })).toBeInTheDocument();

    transport.emit({ event: 'idle', paused: [] });
    await flush();
    expect(screen.queryByTestId('status-progress')).toBeNull();
  });

  it('draws progress from status before any event arrives', async () => {
    const { app } = makeApp({
      status: () => status({ live: { running: true, paused: [], queued_paths: 0, progress: [{ kind: 'scan', done: 5, total: 50, rate: null, eta_seconds: null }], jobs: [], watch: [] } }),
    });
    await app.start();
    renderWith(StatusBar, app);
    expect(screen.getByTestId('status-progress')).toHaveTextContent('Scanning folders 5 / 50 · estimating…');
  });

  it('the status screen says which folder is watched how, in the API shape', async () => {
    const { app } = makeApp({
      status: () => status({
        live: {
          running: true, paused: [], queued_paths: 0, progress: [], jobs: [],
          watch: [{ root_id: 1, path: '/home/me/Pictures', mode: 'native', reason: null, updated_at: '2026-12-07T10:00:00Z' }],
        },
      }),
    });
    await app.start();
    renderWith(StatusScreen, app);
    await waitFor(() => expect(screen.getByText('/home/me/Pictures')).toBeInTheDocument());
    expect(screen.getByText('/home/me/Pictures').closest('li')).toHaveTextContent('/home/me/Pictures: native');
  });

  it('the status screen lists counts, jobs and per-file errors', async () => {
    const { app, transport } = makeApp({
      status: () => status({ errors: 2, warnings: 1, unsupported: 3 }),
      errors: () => ({
        errors: [
          { path: '/p/bad.jpg', reason: 'truncated JPEG', kind: 'error' },
          { path: '/p/x.heic', reason: 'HEIC is not supported yet', kind: 'unsupported' },
        ],
      }),
    });
    await app.start();
    renderWith(StatusScreen, app);
    const panel = await screen.findByTestId('errors-panel');
    await waitFor(() => expect(within(panel).getAllByRole('row')).toHaveLength(3));
    expect(panel).toHaveTextContent('/p/bad.jpg');
    expect(panel).toHaveTextContent('truncated JPEG');
    await fireEvent.change(within(panel).getByRole('combobox'), { target: { value: 'unsupported' } });
    await flush();
    expect(within(panel).getAllByRole('row')).toHaveLength(2);
    expect(screen.getByTestId('status-counts')).toHaveTextContent('2 errors · 1 warning · 3 not supported yet');
    transport.emit({ event: 'progress', kind: 'scan', done: 3, total: 9, rate: 1.5, eta_seconds: 4 });
    await flush();
    expect(screen.getByTestId('job-scan')).toHaveTextContent('3 / 9');
    expect(screen.getByTestId('job-scan')).toHaveTextContent('1.5 per second');
  });
});

describe('a download that failed', () => {
  it('keeps its error when the status is refreshed', async () => {
    const { app } = makeApp({ status: () => status({}) });
    await app.start();
    app.onEvent({ event: 'download', name: 'm', state: 'failed', file: null, done_bytes: 0, total_bytes: null, error: 'offline: no network' });
    await app.refreshStatus();
    expect(app.download?.state).toBe('failed');
    expect(app.download?.error).toBe('offline: no network');
    // A download in flight still follows the status.
    app.onEvent({ event: 'download', name: 'm', state: 'running', file: null, done_bytes: 0, total_bytes: null, error: null });
    await app.refreshStatus();
    expect(app.download).toBeNull();
  });
});
