import { describe, expect, it } from 'vitest';
import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import Settings from '../screens/Settings.svelte';
import { flush, makeApp, renderWith } from '../test/fake';
import type { Folder } from '../lib/api/types';

function setup() {
  let folders: Folder[] = [
    { id: 1, path: '/home/me/Pictures', online: true, last_scan_at: '2024-05-01T10:00:00Z', watch: 'native' },
    { id: 2, path: '/media/usb/Photos', online: false, last_scan_at: null, watch: 'offline' },
  ];
  let xmp = { write_on_change: false, naming: 'append' as const };
  let choice = 'auto';
  const { app, transport } = makeApp({
    folders: () => ({ folders }),
    folders_add: (a) => {
      if (a.path.startsWith('/home/me/Pictures/')) throw Object.assign(new Error('/home/me/Pictures/x is inside /home/me/Pictures'), { code: 'conflict' });
      const there = folders.find((x) => x.path === a.path);
      if (there) return { ...there, added: false };
      const f = { id: 3, path: a.path, online: true, last_scan_at: null, added: true };
      folders = [...folders, f];
      return f;
    },
    folders_remove: (a) => {
      const f = folders.find((x) => x.id === a.id)!;
      folders = folders.filter((x) => x.id !== a.id);
      return f;
    },
    settings_get: () => current(),
    settings_set: (a) => {
      xmp = { ...xmp, ...a.xmp };
      if (a.device) choice = a.device;
      return current();
    },
    models: () => ({ active: null, models: [], download: null }),
  });
  const current = () => ({
    xmp,
    thumbnails: { bytes: 48210944, files: 12911 },
    library: '/home/me/.local/share/shoebox',
    device: 'cpu',
    device_choice: choice,
    devices: ['auto', 'cpu', 'cuda', 'metal'],
    device_reason: choice === 'cuda' ? 'this build has no CUDA support' : null,
    device_locked: false,
  });
  renderWith(Settings, app);
  return { app, transport };
}

describe('settings', () => {
  it('chooses the device and says why an accelerator is not used', async () => {
    const { transport } = setup();
    const select = await screen.findByLabelText(/Run the model on/);
    expect(select).toHaveValue('auto');
    await fireEvent.change(select, { target: { value: 'cuda' } });
    await flush();
    expect(transport.named('settings_set').at(-1)!.args).toEqual({ device: 'cuda' });
    expect(await screen.findByText('this build has no CUDA support')).toBeInTheDocument();
    expect(screen.getByTestId('device')).toHaveTextContent('cpu');
  });

  it('lists folders with their offline state', async () => {
    setup();
    const list = await screen.findByTestId('folder-list');
    const items = within(list).getAllByRole('listitem');
    expect(items).toHaveLength(2);
    expect(items[0]).toHaveTextContent('online · watched');
    expect(items[1]).toHaveTextContent('offline');
  });

  it('adds a folder by path and shows refusals', async () => {
    const { transport } = setup();
    await screen.findByTestId('folder-list');
    const input = screen.getByLabelText('Folder path');
    await fireEvent.input(input, { target: { value: '/home/me/Pictures/x' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add folder' }));
    await flush();
    expect(screen.getByRole('alert')).toHaveTextContent('inside /home/me/Pictures');
    await fireEvent.input(input, { target: { value: '/data/photos' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add folder' }));
    await flush();
    expect(transport.named('folders_add').at(-1)!.args).toEqual({ path: '/data/photos', scan: true });
    await waitFor(() => expect(within(screen.getByTestId('folder-list')).getAllByRole('listitem')).toHaveLength(3));
  });

  it('a folder added twice is said to be there already, not to start indexing', async () => {
    const { app } = setup();
    await screen.findByTestId('folder-list');
    await fireEvent.input(screen.getByLabelText('Folder path'), { target: { value: '/home/me/Pictures' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Add folder' }));
    await flush();
    expect(app.toasts.at(-1)?.text).toBe('/home/me/Pictures is already in the library.');
  });

  it('removes a folder after a confirmation that says files are not touched', async () => {
    const { transport } = setup();
    await screen.findByTestId('folder-list');
    await fireEvent.click(screen.getByRole('button', { name: 'Remove folder /media/usb/Photos' }));
    expect(screen.getByRole('group', { name: 'Confirm removal' })).toHaveTextContent('Files on disk are not touched');
    await fireEvent.click(screen.getByRole('button', { name: 'Remove' }));
    await flush();
    expect(transport.named('folders_remove')[0].args).toEqual({ id: 2 });
    await waitFor(() => expect(within(screen.getByTestId('folder-list')).getAllByRole('listitem')).toHaveLength(1));
  });

  it('XMP writing toggle, cache size, device and data location', async () => {
    const { transport } = setup();
    const box = await screen.findByRole('checkbox', { name: /Write tags to XMP sidecar files/ });
    expect(box).not.toBeChecked();
    await fireEvent.click(box);
    await flush();
    expect(transport.named('settings_set')[0].args).toEqual({ xmp: { write_on_change: true } });
    expect(screen.getByTestId('thumb-cache')).toHaveTextContent('46 MB');
    expect(screen.getByTestId('device')).toHaveTextContent('cpu');
    await fireEvent.click(screen.getByTestId('library-location'));
    await flush();
    expect(screen.getByText(/Open this folder in your file manager/)).toHaveTextContent('/home/me/.local/share/shoebox');
  });
});
