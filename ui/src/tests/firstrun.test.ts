import { beforeEach, describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor } from '@testing-library/svelte';
import App from '../App.svelte';
import { flush, makeApp, renderWith, status } from '../test/fake';
import type { Folder } from '../lib/api/types';

const NAME = 'laion/CLIP-ViT-B-32-laion2B-s34B-b79K';
const OFFLINE = 'Without a model, browsing, metadata, exact and near duplicates work; search, similar photos, tags and similar shots need one. To add a model from disk, choose a folder with config.json, model.safetensors, tokenizer.json and preprocessor_config.json.';

beforeEach(() => history.replaceState(null, '', '/'));

function setup() {
  let folders: Folder[] = [];
  let downloaded = false;
  let needed = true;
  const { app, transport } = makeApp({
    status: () => status({ folders: folders.length, photos: 0, model: null }),
    first_run: () => ({ needed, folders: folders.length, model: null, model_ready: downloaded, default_model: { name: NAME, download_mb: 605, downloaded }, offline_note: OFFLINE }),
    first_run_done: () => {
      needed = false;
      return { needed };
    },
    folders: () => ({ folders }),
    folders_add: (a) => {
      const f = { id: 1, path: a.path, online: true, last_scan_at: null };
      folders = [f];
      return f;
    },
    models: () => ({ active: null, models: [{ name: NAME, repo: NAME, family: 'clip', default: true, active: false, downloaded, download_mb: 605, embedded: 0 }], download: null }),
    model_download: (a) => ({ started: true, name: a.name }),
    model_download_cancel: () => ({ cancelled: true }),
    timeline: () => ({ total: 0, months: [], offset: 0, limit: 500, photos: [] }),
  });
  renderWith(App, app, { app });
  return { app, transport, setDownloaded: () => (downloaded = true) };
}

describe('first run', () => {
  it('folders, then the model download with progress and cancel, then the library', async () => {
    const { app, transport, setDownloaded } = setup();
    expect(await screen.findByRole('heading', { name: 'Welcome to Shoebox' })).toBeInTheDocument();
    expect(location.hash).toBe('#/welcome');
    const next = screen.getByRole('button', { name: 'Next: the model' });
    expect(next).toBeDisabled();
    await fireEvent.input(screen.getByLabelText('Folder path'), { target: { value: '/home/me/Pictures' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add folder' }));
    await flush();
    expect(transport.named('folders_add')[0].args).toEqual({ path: '/home/me/Pictures', scan: true });
    await waitFor(() => expect(next).toBeEnabled());
    await fireEvent.click(next);

    expect(await screen.findByText(/about 605 MB/)).toBeInTheDocument();
    expect(screen.getByTestId('offline-note')).toHaveTextContent('browsing, metadata, exact and near duplicates work');
    expect(screen.getByTestId('offline-note')).toHaveTextContent('To add a model from disk');
    expect(screen.getByLabelText(/Add a model from disk/)).toBeInTheDocument();

    await fireEvent.click(await screen.findByRole('button', { name: 'Download (605 MB)' }));
    await flush();
    expect(transport.named('model_download')[0].args).toEqual({ name: NAME, use: true });
    transport.emit({ event: 'download', name: NAME, state: 'running', file: 'model.safetensors', done_bytes: 300 * 1024 * 1024, total_bytes: 605 * 1024 * 1024 });
    await flush();
    const bar = screen.getByRole('progressbar', { name: `Downloading ${NAME}` });
    expect(bar).toHaveAttribute('value', String(300 * 1024 * 1024));
    expect(screen.getByTestId('model-picker')).toHaveTextContent('300 MB of 605 MB');
    await fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    await flush();
    expect(transport.named('model_download_cancel')).toHaveLength(1);
    expect(screen.getByRole('button', { name: 'Continue while it downloads' })).toBeInTheDocument();

    setDownloaded();
    transport.emit({ event: 'download', name: NAME, state: 'done', file: null, done_bytes: 605, total_bytes: 605 });
    await flush();
    const start = await screen.findByRole('button', { name: 'Start browsing' });
    await fireEvent.click(start);
    await flush();
    expect(transport.named('first_run_done')).toHaveLength(1);
    expect(app.route.screen).toBe('library');
  });

  it('an offline download failure stays, in words for this screen', async () => {
    const { app, transport } = setup();
    await fireEvent.input(await screen.findByLabelText('Folder path'), { target: { value: '/home/me/Pictures' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add folder' }));
    await flush();
    const next = screen.getByRole('button', { name: 'Next: the model' });
    await waitFor(() => expect(next).toBeEnabled());
    await fireEvent.click(next);
    await fireEvent.click(await screen.findByRole('button', { name: 'Download (605 MB)' }));
    await flush();
    transport.emit({
      event: 'download', name: NAME, state: 'failed', file: null, done_bytes: 0, total_bytes: null,
      error: `${NAME} is not in the cache and the network is off (HF_HUB_OFFLINE). To use it without network access, download config.json, … from https://huggingface.co/${NAME} into one directory and pass --model DIR (or set SHOEBOX_MODEL=DIR).`,
    });
    await flush();
    const alert = await screen.findByRole('alert');
    expect(alert).toHaveTextContent('Download failed:');
    expect(alert).toHaveTextContent('add a model folder from disk');
    expect(alert.textContent).not.toMatch(/--model|SHOEBOX_MODEL|\.\.|resumes/);
    // A status refresh does not wipe it.
    await app.refreshStatus();
    await flush();
    expect(screen.getByRole('alert')).toHaveTextContent('Download failed:');
  });

  it('can continue without a model', async () => {
    const { app, transport } = setup();
    await screen.findByRole('heading', { name: 'Welcome to Shoebox' });
    await fireEvent.click(screen.getByRole('button', { name: 'skip' }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Continue without a model' }));
    await flush();
    expect(transport.named('first_run_done')).toHaveLength(1);
    expect(app.route.screen).toBe('library');
  });
});
